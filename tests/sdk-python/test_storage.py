"""Storage with the Python SDK against the real binary: buckets with every parameter, files whole
and chunked (12 MB through the SDK's own parallel chunked upload, an interrupted upload resumed,
chunks racing out of order), downloads and views with Range/ETag/headers, previews, and every
bucket limit (size, extensions, disabled, the global `_APP_STORAGE_LIMIT`)."""

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from appwrite.enums.compression import Compression
from appwrite.enums.image_format import ImageFormat
from appwrite.enums.image_gravity import ImageGravity
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.input_file import InputFile
from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role
from appwrite.services.storage import Storage

from actors import CHUNK, guest_actor, key_actor, png, png_size, send_chunk, unique, user_actor, wav
from conftest import error_of, start_emulator


@pytest.fixture
def storage(client):
    return Storage(client)


@pytest.fixture
def bucket(storage):
    """A bucket anyone may use, deleted afterwards."""
    bucket_id = unique("b")
    storage.create_bucket(
        bucket_id=bucket_id,
        name="Audio",
        permissions=[Permission.read(Role.any()), Permission.create(Role.any()), Permission.update(Role.any()), Permission.delete(Role.any())],
    )
    yield bucket_id
    try:
        storage.delete_bucket(bucket_id=bucket_id)
    except AppwriteException:
        pass


def sha(data):
    return hashlib.sha256(data).hexdigest()


# --- buckets ---------------------------------------------------------------------------------


def test_bucket_defaults_and_every_parameter(storage):
    plain = storage.create_bucket(bucket_id=unique("b"), name="Plain")
    assert (plain.permissions, plain.filesecurity, plain.enabled) == ([], False, True)
    assert (plain.maximumfilesize, plain.allowedfileextensions, plain.compression) == (30000000, [], "none")
    assert (plain.encryption, plain.antivirus, plain.transformations, plain.totalsize) == (True, True, True, 0)
    assert (plain.description, plain.stripmetadata) == ("", False)

    bucket_id = unique("b")
    full = storage.create_bucket(
        bucket_id=bucket_id,
        name="Recordings",
        permissions=[Permission.read(Role.users()), Permission.write(Role.user("u1"))],
        file_security=True,
        enabled=False,
        maximum_file_size=1000000,
        allowed_file_extensions=["wav", "mp3"],
        compression=Compression.GZIP,
        encryption=False,
        antivirus=False,
        transformations=False,
        description="Raw takes",
        strip_metadata=True,
    )
    assert full.permissions == ['read("users")', 'create("user:u1")', 'update("user:u1")', 'delete("user:u1")']
    assert (full.filesecurity, full.enabled, full.maximumfilesize) == (True, False, 1000000)
    assert (full.allowedfileextensions, full.compression, full.encryption) == (["wav", "mp3"], "gzip", False)
    assert (full.antivirus, full.transformations, full.description, full.stripmetadata) == (False, False, "Raw takes", True)
    got = storage.get_bucket(bucket_id=bucket_id)
    assert got.to_dict() == full.to_dict()

    # PUT: what is not sent returns to its default, except the permissions
    up = storage.update_bucket(bucket_id=bucket_id, name="Takes", compression=Compression.ZSTD)
    assert (up.name, up.compression, up.enabled, up.filesecurity, up.maximumfilesize) == ("Takes", "zstd", True, False, 30000000)
    assert (up.allowedfileextensions, up.encryption, up.permissions) == ([], True, full.permissions)
    assert up.updatedat >= up.createdat

    with pytest.raises(AppwriteException) as e:
        storage.create_bucket(bucket_id=bucket_id, name="again")
    assert error_of(e) == (409, "storage_bucket_already_exists", "A storage bucket with the requested ID already exists. Try again with a different ID or use ID.unique() to generate a unique ID.")
    storage.delete_bucket(bucket_id=bucket_id)
    storage.delete_bucket(bucket_id=plain.id)
    with pytest.raises(AppwriteException) as e:
        storage.get_bucket(bucket_id=bucket_id)
    assert error_of(e) == (404, "storage_bucket_not_found", "Storage bucket with the requested ID could not be found.")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"maximumFileSize": 30000001}, "Invalid `maximumFileSize` param: Value must be a valid range between 1 and 30,000,000"),
        ({"maximumFileSize": 0}, "Invalid `maximumFileSize` param: Value must be a valid range between 1 and 30,000,000"),
        ({"compression": "brotli"}, "Invalid `compression` param: Value must be one of (none, gzip, zstd)"),
        ({"allowedFileExtensions": ["x" * 65]}, "Invalid `allowedFileExtensions` param: Value must a valid array no longer than 100 items and Value must be a valid string and at least 1 chars and no longer than 64 chars"),
        ({"permissions": ['write("nobody")']}, 'Invalid `permissions` param: Role "nobody" is not allowed. Must be one of: any, guests, users, user, team, member, label.'),
        ({"name": ""}, "Invalid `name` param: Value must be a valid string and at least 1 chars and no longer than 128 chars"),
        ({"bucketId": "-bad"}, "Invalid `bucketId` param: Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char"),
        ({"enabled": "maybe"}, "Invalid `enabled` param: Value must be a valid boolean"),
    ],
)
def test_bucket_params_are_validated(api, params, message):
    body = {"bucketId": unique("b"), "name": "B", **params}
    r = api.call("POST", "/storage/buckets", json=body)
    assert r.status_code == 400, r.text
    assert (r.json()["type"], r.json()["message"]) == ("general_argument_invalid", message)
    assert api.call("GET", f"/storage/buckets/{body['bucketId']}").status_code in (400, 404)


def test_bucket_list_queries_search_and_total(storage):
    tag = unique("L")
    ids = [storage.create_bucket(bucket_id=f"{tag}{i}", name=f"List {tag} {i}", enabled=i != 1, maximum_file_size=1000 * (i + 1)).id for i in range(3)]
    page = storage.list_buckets(search=tag)
    assert page.total == 3 and [b.id for b in page.buckets] == ids
    page = storage.list_buckets(queries=[Query.equal("enabled", [False]), Query.starts_with("name", f"List {tag}")])
    assert [b.id for b in page.buckets] == [ids[1]]
    page = storage.list_buckets(queries=[Query.greater_than("maximumFileSize", 1500), Query.order_desc("maximumFileSize"), Query.limit(1)], search=tag)
    assert page.total == 2 and [b.id for b in page.buckets] == [ids[2]]
    page = storage.list_buckets(queries=[Query.cursor_after(ids[0]), Query.limit(5)], search=tag, total=False)
    assert page.total == 0 and [b.id for b in page.buckets] == ids[1:]
    with pytest.raises(AppwriteException) as e:
        storage.list_buckets(queries=[Query.equal("compression", ["none"])])
    assert error_of(e) == (400, "general_argument_invalid", "Invalid `queries` param: Invalid query: Attribute not found in schema: compression")
    for i in ids:
        storage.delete_bucket(bucket_id=i)


def test_bucket_routes_need_a_key(emulator, bucket):
    for actor in (guest_actor(emulator), user_actor(emulator, "noscope")):
        with pytest.raises(AppwriteException) as e:
            Storage(actor.client).list_buckets()
        assert e.value.code == 401 and e.value.type == "general_unauthorized_scope"
        assert 'missing scopes (["buckets.read"])' in e.value.message


# --- files: whole uploads, get, list, update, delete ------------------------------------------


def test_whole_file_upload_and_model(storage, bucket, emulator):
    f = storage.create_file(bucket_id=bucket, file_id=ID.unique(), file=InputFile.from_bytes(b"hello world", "a.txt"))
    assert (f.name, f.signature, f.mimetype) == ("a.txt", "5eb63bbbe01eeed093cb22bb8f5acdc3", "text/plain")
    assert (f.sizeoriginal, f.sizeactual, f.chunkstotal, f.chunksuploaded) == (11, 11, 1, 1)
    assert (f.bucketid, f.permissions, f.folder, f.key) == (bucket, [], "", "a.txt")
    assert (f.encryption, f.compression) == (True, "none"), "reported as Appwrite stores a small file in an encrypting bucket"
    assert len(f.id) == 20
    assert storage.get_file(bucket_id=bucket, file_id=f.id).to_dict() == f.to_dict()
    assert storage.get_bucket(bucket_id=bucket).totalsize == 11

    audio = storage.create_file(bucket_id=bucket, file_id="take1", file=InputFile.from_bytes(wav(), "take1.wav"), folder="sessions/2026")
    assert (audio.mimetype, audio.folder, audio.key) == ("audio/x-wav", "sessions/2026/", "sessions/2026/take1.wav")

    with pytest.raises(AppwriteException) as e:
        storage.create_file(bucket_id=bucket, file_id="take1", file=InputFile.from_bytes(b"other", "x.txt"))
    assert error_of(e) == (409, "storage_file_already_exists", "A storage file with the requested ID already exists.")
    assert storage.get_file_download(bucket_id=bucket, file_id="take1") == wav()


def test_missing_or_empty_file_part(api, bucket):
    r = api.call("POST", f"/storage/buckets/{bucket}/files", headers={"content-type": None}, data={"fileId": "x1"}, files={"other": ("a", b"x")})
    assert (r.status_code, r.json()["type"], r.json()["message"]) == (400, "storage_file_empty", "Empty file passed to the endpoint.")
    r = api.call("POST", f"/storage/buckets/{bucket}/files", headers={"content-type": None}, data={"fileId": "x1"}, files={"file": ("a.txt", b"")})
    assert (r.status_code, r.json()["type"]) == (400, "storage_file_empty")
    r = api.call("POST", f"/storage/buckets/{bucket}/files", headers={"content-type": None}, data={}, files={"file": ("a.txt", b"x")})
    assert (r.status_code, r.json()["message"]) == (400, 'Param "fileId" is not optional.')
    assert api.call("GET", f"/storage/buckets/{bucket}/files/x1").status_code == 404
    r = api.call("POST", "/storage/buckets/nope/files", headers={"content-type": None}, data={"fileId": "x1"}, files={"file": ("a.txt", b"x")})
    assert (r.status_code, r.json()["type"]) == (404, "storage_bucket_not_found")


def test_file_list_queries_update_and_delete(storage, bucket):
    for i, (name, data) in enumerate([("a.txt", b"aaa"), ("b.png", png(2, 2)), ("c.txt", b"c" * 10)]):
        storage.create_file(bucket_id=bucket, file_id=f"f{i}", file=InputFile.from_bytes(data, name))
    page = storage.list_files(bucket_id=bucket)
    assert page.total == 3 and [f.id for f in page.files] == ["f0", "f1", "f2"]
    assert [f.id for f in storage.list_files(bucket_id=bucket, queries=[Query.equal("mimeType", ["image/png"])]).files] == ["f1"]
    assert [f.id for f in storage.list_files(bucket_id=bucket, queries=[Query.greater_than("sizeOriginal", 5), Query.order_desc("sizeOriginal")]).files] == ["f1", "f2"]
    assert [f.id for f in storage.list_files(bucket_id=bucket, queries=[Query.limit(1), Query.offset(1)]).files] == ["f1"]
    assert [f.id for f in storage.list_files(bucket_id=bucket, search="c.txt").files] == ["f2"]
    page = storage.list_files(bucket_id=bucket, queries=[Query.cursor_after("f0")], total=False)
    assert page.total == 0 and [f.id for f in page.files] == ["f1", "f2"]
    with pytest.raises(AppwriteException) as e:
        storage.list_files(bucket_id=bucket, queries=[Query.equal("bucketId", ["x"])])
    assert error_of(e) == (400, "general_argument_invalid", "Invalid `queries` param: Invalid query: Attribute not found in schema: bucketId")
    with pytest.raises(AppwriteException) as e:
        storage.list_files(bucket_id=bucket, queries=[Query.cursor_after("missing")])
    assert error_of(e) == (400, "general_cursor_not_found", "File 'missing' for the 'cursor' value not found.")

    up = storage.update_file(bucket_id=bucket, file_id="f0", name="renamed.txt", permissions=[Permission.write(Role.users())])
    assert (up.name, up.permissions) == ("renamed.txt", ['update("users")', 'delete("users")'])
    assert storage.get_file(bucket_id=bucket, file_id="f0").name == "renamed.txt"
    kept = storage.update_file(bucket_id=bucket, file_id="f0", name="again.txt")
    assert kept.permissions == up.permissions
    with pytest.raises(AppwriteException) as e:
        storage.update_file(bucket_id=bucket, file_id="f0", permissions=['create("any")'])
    assert error_of(e)[:2] == (400, "general_argument_invalid")
    with pytest.raises(AppwriteException) as e:
        storage.update_file(bucket_id=bucket, file_id="nope", name="x")
    assert error_of(e) == (404, "storage_file_not_found", "The requested file could not be found.")

    storage.delete_file(bucket_id=bucket, file_id="f0")
    for call in (storage.get_file, storage.get_file_download, storage.delete_file):
        with pytest.raises(AppwriteException) as e:
            call(bucket_id=bucket, file_id="f0")
        assert e.value.code == 404 and e.value.type == "storage_file_not_found"
    again = storage.create_file(bucket_id=bucket, file_id="f0", file=InputFile.from_bytes(b"new", "n.txt"))
    assert storage.get_file_download(bucket_id=bucket, file_id=again.id) == b"new"


def test_deleting_a_bucket_removes_its_files(storage, emulator):
    bucket_id = unique("b")
    storage.create_bucket(bucket_id=bucket_id, name="Gone")
    storage.create_file(bucket_id=bucket_id, file_id="f", file=InputFile.from_bytes(b"x", "x.txt"))
    storage.delete_bucket(bucket_id=bucket_id)
    storage.create_bucket(bucket_id=bucket_id, name="Same ID")
    assert storage.list_files(bucket_id=bucket_id).total == 0
    with pytest.raises(AppwriteException) as e:
        storage.get_file_download(bucket_id=bucket_id, file_id="f")
    assert e.value.code == 404
    storage.delete_bucket(bucket_id=bucket_id)


# --- chunked uploads --------------------------------------------------------------------------


def test_sdk_chunked_upload_of_12_mb_is_byte_identical(storage, bucket):
    data = os.urandom(12 * 1024 * 1024)
    progress = []
    f = storage.create_file(bucket_id=bucket, file_id=ID.unique(), file=InputFile.from_bytes(data, "long-take.wav"), on_progress=progress.append)
    assert (f.chunkstotal, f.chunksuploaded, f.sizeoriginal, f.sizeactual) == (3, 3, len(data), len(data))
    assert f.signature == hashlib.md5(data).hexdigest()
    assert sorted(p["chunksUploaded"] for p in progress) == [1, 2, 3]
    got = storage.get_file_download(bucket_id=bucket, file_id=f.id)
    assert len(got) == len(data) and sha(got) == sha(data)


def test_interrupted_upload_resumes_with_the_sdk(storage, bucket, emulator):
    data = os.urandom(3 * CHUNK + 1234)
    size, file_id = len(data), unique("res")
    headers = key_actor(emulator).headers
    # The first two chunks as the SDK sends them, then the "network" drops.
    first = send_chunk(emulator, headers, bucket, file_id, data[:CHUNK], 0, size)
    assert first.status_code == 201, first.text
    assert (first.json()["$id"], first.json()["chunksUploaded"], first.json()["chunksTotal"]) == (file_id, 1, 4)
    assert (first.json()["signature"], first.json()["mimeType"]) == ("", "")
    second = send_chunk(emulator, headers, bucket, file_id, data[CHUNK : 2 * CHUNK], CHUNK, size, upload_id=file_id)
    assert (second.status_code, second.json()["chunksUploaded"]) == (201, 2)
    # Meanwhile the upload is visible with its progress, but has no contents yet.
    pending = storage.get_file(bucket_id=bucket, file_id=file_id)
    assert (pending.chunksuploaded, pending.chunkstotal, pending.sizeoriginal) == (2, 4, size)
    with pytest.raises(AppwriteException) as e:
        storage.get_file_download(bucket_id=bucket, file_id=file_id)
    assert e.value.code == 404
    # The SDK GETs the file, skips the two uploaded chunks and sends the rest.
    done = storage.create_file(bucket_id=bucket, file_id=file_id, file=InputFile.from_bytes(data, "big.bin"))
    assert (done.chunksuploaded, done.chunkstotal, done.signature) == (4, 4, hashlib.md5(data).hexdigest())
    assert sha(storage.get_file_download(bucket_id=bucket, file_id=file_id)) == sha(data)
    # A chunk re-sent after completion answers 200 with the file; a whole re-upload is a conflict.
    again = send_chunk(emulator, headers, bucket, file_id, data[:CHUNK], 0, size, upload_id=file_id)
    assert (again.status_code, again.json()["chunksUploaded"]) == (200, 4)
    with pytest.raises(AppwriteException) as e:
        storage.create_file(bucket_id=bucket, file_id=file_id, file=InputFile.from_bytes(b"x", "x.txt"))
    assert e.value.code == 409


def test_parallel_out_of_order_chunks_complete_exactly_once(emulator, bucket, storage):
    data = os.urandom(5 * CHUNK + 77)  # six chunks, under the 30 MB default limit
    size, file_id = len(data), unique("par")
    headers = key_actor(emulator).headers
    starts = list(range(0, size, CHUNK))[::-1]  # last chunk first, like a racing client
    # The last chunk opens the upload (no x-appwrite-id, as Node's first request), then all the
    # others race, re-sending two of them twice.
    first = send_chunk(emulator, headers, bucket, file_id, data[starts[0] : starts[0] + CHUNK], starts[0], size)
    assert first.json()["chunksUploaded"] == 1
    rest = starts[1:] + starts[2:4]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda s: send_chunk(emulator, headers, bucket, file_id, data[s : s + CHUNK], s, size, upload_id=file_id), rest))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    counts = sorted(r.json()["chunksUploaded"] for r in responses)
    completing = [r for r in responses if r.status_code == 201 and r.json()["chunksUploaded"] == 6]
    assert len(completing) == 1, counts
    assert completing[0].json()["signature"] == hashlib.md5(data).hexdigest()
    assert storage.get_file(bucket_id=bucket, file_id=file_id).chunksuploaded == 6
    assert sha(storage.get_file_download(bucket_id=bucket, file_id=file_id)) == sha(data)


def test_chunk_header_errors(emulator, bucket, api):
    headers = key_actor(emulator).headers
    data = b"x" * 100
    for bad in ["bytes 0-99", "bytes 0-200/100", "bytes 50-10/100", "0-99/100", "bytes 0-99/1x"]:
        r = requests.post(f"{emulator.endpoint}/storage/buckets/{bucket}/files", headers={**headers, "content-range": bad}, data={"fileId": "c1"}, files={"file": ("a.bin", data)})
        assert (r.status_code, r.json()["type"]) == (400, "storage_invalid_content_range"), bad
    r = send_chunk(emulator, headers, bucket, ID.unique(), data, 0, 100, upload_id="unique()")
    assert (r.status_code, r.json()["type"]) == (400, "storage_invalid_appwrite_id")
    assert r.json()["message"] == "The value for x-appwrite-id header is invalid. Please check the value of the x-appwrite-id header is a valid id and not unique()."
    # A chunk must be exactly its slice of the file (the SDKs always send them so): a short or
    # misaligned one would otherwise be stored as a corrupt file.
    for data, start in [(b"x" * 10, 0), (b"x" * CHUNK, 100)]:
        r = send_chunk(emulator, headers, bucket, "c2", data, start, 3 * CHUNK)
        assert (r.status_code, r.json()["type"]) == (400, "storage_invalid_content_range")
    for file_id in ("c1", "c2"):
        assert api.call("GET", f"/storage/buckets/{bucket}/files/{file_id}").status_code == 404


# --- downloads and views ----------------------------------------------------------------------


@pytest.fixture
def logo(storage, bucket):
    data = png(40, 20)
    storage.create_file(bucket_id=bucket, file_id="logo", file=InputFile.from_bytes(data, "logo.png"))
    return bucket, data


def test_download_headers_etag_and_ranges(api, logo):
    bucket, data = logo
    path = f"/storage/buckets/{bucket}/files/logo"
    r = api.call("GET", path + "/download")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"] == 'attachment; filename="logo.png"'
    assert r.headers["cache-control"] == "private, max-age=3888000"
    assert r.headers["content-length"] == str(len(data))
    etag = r.headers["etag"]
    assert etag == f'"{hashlib.md5(data).hexdigest()}"'
    assert api.call("GET", path + "/download", headers={"If-None-Match": etag}).status_code == 304

    r = api.call("GET", path + "/download", headers={"Range": "bytes=0-99"})
    assert (r.status_code, r.content) == (206, data[:100])
    assert (r.headers["content-range"], r.headers["accept-ranges"], r.headers["content-length"]) == (f"bytes 0-99/{len(data)}", "bytes", "100")
    r = api.call("GET", path + "/download", headers={"Range": "bytes=10-"})
    assert (r.status_code, r.content, r.headers["content-range"]) == (206, data[10:], f"bytes 10-{len(data) - 1}/{len(data)}")
    for bad in ["bytes=988", "bytes=-988", f"bytes=0-{len(data)}", "bytes=5-5", "lines=0-9", "bytes=0-1,5-9"]:
        r = api.call("GET", path + "/download", headers={"Range": bad})
        assert r.status_code == 416, bad
        assert (r.json()["type"], r.json()["message"]) == ("storage_invalid_range", "The requested range is not satisfiable. Please check the value of the Range header.")


def test_view_headers_and_safe_types(api, storage, bucket, logo):
    bucket, data = logo
    r = api.call("GET", f"/storage/buckets/{bucket}/files/logo/view")
    assert (r.status_code, r.content, r.headers["content-type"]) == (200, data, "image/png")
    assert r.headers["content-disposition"] == 'inline; filename="logo.png"'
    assert (r.headers["x-content-type-options"], r.headers["content-security-policy"]) == ("nosniff", "script-src none;")
    storage.create_file(bucket_id=bucket, file_id="page", file=InputFile.from_bytes(b"<script>alert(1)</script>", "page.html"))
    r = api.call("GET", f"/storage/buckets/{bucket}/files/page/view")
    assert r.headers["content-type"] == "text/plain", "a page is never served as HTML"
    assert api.call("GET", f"/storage/buckets/{bucket}/files/page/download").headers["content-type"] == "text/html"
    storage.create_file(bucket_id=bucket, file_id="take", file=InputFile.from_bytes(wav(), "take.wav"))
    r = api.call("GET", f"/storage/buckets/{bucket}/files/take/view", headers={"Range": "bytes=0-43"})
    assert (r.status_code, r.headers["content-type"], r.content) == (206, "audio/x-wav", wav()[:44])


# --- previews ---------------------------------------------------------------------------------


def test_image_previews(storage, logo):
    bucket, data = logo
    same = storage.get_file_preview(bucket_id=bucket, file_id="logo")
    assert png_size(same) == (40, 20)
    assert png_size(storage.get_file_preview(bucket_id=bucket, file_id="logo", width=20)) == (20, 10)
    assert png_size(storage.get_file_preview(bucket_id=bucket, file_id="logo", width=30, height=30, gravity=ImageGravity.TOP_LEFT)) == (30, 30)
    assert png_size(storage.get_file_preview(bucket_id=bucket, file_id="logo", width=20, height=10, border_width=5, border_color="ff0000")) == (30, 20)
    assert png_size(storage.get_file_preview(bucket_id=bucket, file_id="logo", rotation=90)) == (20, 40)
    rounded = storage.get_file_preview(bucket_id=bucket, file_id="logo", border_radius=8, opacity=0.5, background="fff")
    assert png_size(rounded) == (40, 20)
    assert storage.get_file_preview(bucket_id=bucket, file_id="logo", output=ImageFormat.JPG, quality=60)[:2] == b"\xff\xd8"
    assert storage.get_file_preview(bucket_id=bucket, file_id="logo", output=ImageFormat.GIF)[:4] == b"GIF8"
    assert storage.get_file_preview(bucket_id=bucket, file_id="logo", output=ImageFormat.WEBP)[:4] == b"RIFF"


def test_preview_headers_icons_and_errors(api, storage, emulator, logo):
    bucket, _ = logo
    r = api.call("GET", f"/storage/buckets/{bucket}/files/logo/preview", params={"width": 10, "output": "jpeg"})
    assert (r.status_code, r.headers["content-type"], r.headers["cache-control"]) == (200, "image/jpeg", "private, max-age=2592000")
    # Audio and other non-images: the generic file icon, as PNG (Appwrite's icons are 1200x800).
    storage.create_file(bucket_id=bucket, file_id="take", file=InputFile.from_bytes(wav(), "take.wav"))
    icon = storage.get_file_preview(bucket_id=bucket, file_id="take")
    assert png_size(icon) == (1200, 800)
    assert png_size(storage.get_file_preview(bucket_id=bucket, file_id="take", width=300, height=200)) == (300, 200)
    r = api.call("GET", f"/storage/buckets/{bucket}/files/take/preview", params={"output": "jpg"})
    assert r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    # Outputs the emulator cannot encode are refused (documented deviation), invalid params too.
    r = api.call("GET", f"/storage/buckets/{bucket}/files/logo/preview", params={"output": "avif"})
    assert (r.status_code, r.json()["type"]) == (400, "storage_file_type_unsupported")
    for params, message in [
        ({"width": 4001}, "Invalid `width` param: Value must be a valid range between 0 and 4,000"),
        ({"gravity": "auto"}, "Invalid `gravity` param: Value must be one of (center, top-left, top, top-right, left, right, bottom-left, bottom, bottom-right)"),
        ({"output": "bmp"}, "Invalid `output` param: Value must be one of (jpg, jpeg, png, webp, heic, avif, gif)"),
        ({"borderColor": "red"}, "Invalid `borderColor` param: Value must be a valid Hex color code"),
        ({"opacity": 2}, "Invalid `opacity` param: Value must be a valid range between 0 and 1"),
        ({"quality": -2}, "Invalid `quality` param: Value must be a valid range between -1 and 100"),
    ]:
        r = api.call("GET", f"/storage/buckets/{bucket}/files/logo/preview", params=params)
        assert (r.status_code, r.json()["message"]) == (400, message), params


def test_transformations_disabled(storage, emulator):
    bucket_id = unique("b")
    storage.create_bucket(bucket_id=bucket_id, name="No previews", permissions=[Permission.read(Role.any())], transformations=False)
    storage.create_file(bucket_id=bucket_id, file_id="logo", file=InputFile.from_bytes(png(4, 4), "logo.png"))
    for actor in (guest_actor(emulator), user_actor(emulator, "prev")):
        with pytest.raises(AppwriteException) as e:
            Storage(actor.client).get_file_preview(bucket_id=bucket_id, file_id="logo")
        assert error_of(e) == (403, "storage_bucket_transformations_disabled", "Image transformations are disabled for the requested bucket.")
        assert Storage(actor.client).get_file_download(bucket_id=bucket_id, file_id="logo")[:4] == b"\x89PNG"
    assert png_size(storage.get_file_preview(bucket_id=bucket_id, file_id="logo")) == (4, 4), "keys are not limited"
    storage.delete_bucket(bucket_id=bucket_id)


# --- bucket limits ----------------------------------------------------------------------------


def test_bucket_size_and_extension_limits(storage, emulator):
    bucket_id = unique("b")
    storage.create_bucket(bucket_id=bucket_id, name="Small wav", maximum_file_size=CHUNK + 100, allowed_file_extensions=["wav", "mp3"])
    ok = storage.create_file(bucket_id=bucket_id, file_id="ok", file=InputFile.from_bytes(wav(), "ok.wav"))
    assert ok.sizeoriginal == len(wav())
    with pytest.raises(AppwriteException) as e:
        storage.create_file(bucket_id=bucket_id, file_id="ext", file=InputFile.from_bytes(b"x", "notes.txt"))
    assert error_of(e) == (400, "storage_file_type_unsupported", "File extension not allowed")
    with pytest.raises(AppwriteException) as e:
        storage.create_file(bucket_id=bucket_id, file_id="case", file=InputFile.from_bytes(b"x", "LOUD.WAV"))
    assert e.value.type == "storage_file_type_unsupported", "extensions compare case-sensitively, as Appwrite's"
    # Too big, sent whole and sent in chunks (the declared total counts, refused on the first chunk).
    with pytest.raises(AppwriteException) as e:
        storage.create_file(bucket_id=bucket_id, file_id="big", file=InputFile.from_bytes(b"x" * (CHUNK + 101), "big.wav"))
    assert error_of(e) == (400, "storage_invalid_file_size", "File size not allowed")
    r = send_chunk(emulator, key_actor(emulator).headers, bucket_id, "big2", b"x" * CHUNK, 0, 2 * CHUNK, name="big2.wav")
    assert (r.status_code, r.json()["type"]) == (400, "storage_invalid_file_size")
    assert storage.list_files(bucket_id=bucket_id).total == 1, "refused uploads leave nothing behind"
    storage.delete_bucket(bucket_id=bucket_id)


def test_disabled_bucket_hides_from_all_but_keys(storage, emulator):
    bucket_id = unique("b")
    storage.create_bucket(bucket_id=bucket_id, name="Off", permissions=[Permission.read(Role.any()), Permission.create(Role.any())])
    storage.create_file(bucket_id=bucket_id, file_id="f", file=InputFile.from_bytes(b"x", "x.txt"))
    storage.update_bucket(bucket_id=bucket_id, name="Off", permissions=[Permission.read(Role.any()), Permission.create(Role.any())], enabled=False)
    for actor in (guest_actor(emulator), user_actor(emulator, "dis")):
        s = Storage(actor.client)
        for call in (lambda: s.get_file(bucket_id=bucket_id, file_id="f"), lambda: s.list_files(bucket_id=bucket_id),
                     lambda: s.get_file_download(bucket_id=bucket_id, file_id="f"),
                     lambda: s.create_file(bucket_id=bucket_id, file_id="g", file=InputFile.from_bytes(b"y", "y.txt"))):
            with pytest.raises(AppwriteException) as e:
                call()
            assert (e.value.code, e.value.type) == (404, "storage_bucket_not_found")
    assert storage.get_file_download(bucket_id=bucket_id, file_id="f") == b"x"
    storage.create_file(bucket_id=bucket_id, file_id="g", file=InputFile.from_bytes(b"y", "y.txt"))
    storage.delete_bucket(bucket_id=bucket_id)


def test_global_storage_limit(tmp_path):
    """`_APP_STORAGE_LIMIT` caps bucket sizes, and a bucket left above a lowered limit fails as on Appwrite."""
    os.environ["_APP_STORAGE_LIMIT"] = "6000000"
    try:
        emu = start_emulator(data=tmp_path)
    finally:
        del os.environ["_APP_STORAGE_LIMIT"]
    try:
        s = Storage(emu.client())
        b = s.create_bucket(bucket_id="limited", name="L")
        assert b.maximumfilesize == 6000000
        with pytest.raises(AppwriteException) as e:
            s.create_bucket(bucket_id="over", name="O", maximum_file_size=6000001)
        assert error_of(e) == (400, "general_argument_invalid", "Invalid `maximumFileSize` param: Value must be a valid range between 1 and 6,000,000")
        with pytest.raises(AppwriteException) as e:
            s.create_file(bucket_id="limited", file_id="big", file=InputFile.from_bytes(b"x" * 6000001, "big.bin"))
        assert error_of(e) == (400, "storage_invalid_file_size", "File size not allowed")
    finally:
        assert emu.stop() == 0
    emu = start_emulator("--storage-limit", "1000", data=tmp_path)
    try:
        with pytest.raises(AppwriteException) as e:
            Storage(emu.client()).create_file(bucket_id="limited", file_id="f", file=InputFile.from_bytes(b"x", "x.txt"))
        assert error_of(e) == (500, "general_server_error", "Maximum bucket file size is larger than _APP_STORAGE_LIMIT")
    finally:
        assert emu.stop() == 0


def test_files_survive_a_restart(tmp_path):
    emu = start_emulator(data=tmp_path)
    data = os.urandom(CHUNK + 10)
    try:
        s = Storage(emu.client())
        s.create_bucket(bucket_id="keep", name="Keep")
        s.create_file(bucket_id="keep", file_id="f", file=InputFile.from_bytes(data, "f.bin"))
    finally:
        assert emu.stop() == 0
    emu = start_emulator(data=tmp_path)
    try:
        assert sha(Storage(emu.client()).get_file_download(bucket_id="keep", file_id="f")) == sha(data)
    finally:
        assert emu.stop() == 0
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and ".uploads" in p.parts]
    assert leftovers == [], "no upload temporaries remain after completion"


def test_an_upload_renamed_into_place_before_a_crash_is_finished(tmp_path):
    """If the emulator dies between moving a completed upload into place and recording it, the next
    chunk the client re-sends finishes the file from disk instead of writing a corrupt one."""
    emu = start_emulator(data=tmp_path)
    data = os.urandom(CHUNK + 500)
    try:
        headers = key_actor(emu).headers
        Storage(emu.client()).create_bucket(bucket_id="crash", name="Crash")
        assert send_chunk(emu, headers, "crash", "f", data[:CHUNK], 0, len(data)).status_code == 201
    finally:
        assert emu.stop() == 0
    # What the last chunk would have left: the whole file at its final path, no temporary.
    bucket_dir = tmp_path / "test" / "buckets" / "1"
    (bucket_dir / ".uploads" / "f.part").unlink()
    (bucket_dir / "f").write_bytes(data)
    emu = start_emulator(data=tmp_path)
    try:
        s = Storage(emu.client())
        assert s.get_file(bucket_id="crash", file_id="f").chunksuploaded == 1
        r = send_chunk(emu, key_actor(emu).headers, "crash", "f", data[CHUNK:], CHUNK, len(data), upload_id="f")
        assert (r.status_code, r.json()["chunksUploaded"], r.json()["signature"]) == (200, 2, hashlib.md5(data).hexdigest())
        assert sha(s.get_file_download(bucket_id="crash", file_id="f")) == sha(data)
    finally:
        assert emu.stop() == 0
