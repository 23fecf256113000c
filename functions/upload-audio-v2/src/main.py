"""upload-audio-v2: Version 2 upload: takes the ID of a file already uploaded to Storage plus options (language, prompt) and creates the transcription job with its estimate.

The client uploads the audio straight to the audio bucket with its own session or JWT (the SDKs
do it in resumable 5 MiB chunks, so files beyond what a function request can carry work), then
calls `POST /v2/upload` with `{"fileId": "…", "language": "en", "prompt": "…"}`. Only the
uploader's own file is accepted (the file must grant the caller read, as a user's upload does by
default). The file stays in Storage when the job is refused, so the client can retry with it;
cleanup-cron removes files no job claims once they are older than RETENTION_DAYS.
"""

from appwrite.exception import AppwriteException
from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role
from appwrite.services.storage import Storage

from .shared import audio, jobs
from .shared.config import Config
from .shared.envelope import posted
from .shared.store import JOBS, Store
from .shared.utils import ApiError, appwrite_client, entrypoint, is_conflict, is_not_found, json_response, log, server_now

API_VERSION = "v2"
REQUIRED = ("AUDIO_BUCKET_ID", "COST_PER_MINUTE", "DATABASE_ID", "DEFAULT_USER_CREDITS", "MAX_FILE_SIZE_MB")
MAX_ID = 36


def file_id_of(body):
    file_id = body.get("fileId")
    if not isinstance(file_id, str) or not file_id or len(file_id) > MAX_ID:
        raise ApiError("invalid_request", "fileId must be the ID of the audio file uploaded to Storage.", field="fileId")
    return file_id


def already_submitted(store, file_id):
    existing = store.list(JOBS, [Query.equal("file_id", [file_id]), Query.limit(1)])
    if existing:
        raise ApiError("file_already_submitted", "A job already exists for this file.", job_id=existing[0]["$id"])


def handle(context):
    config = Config().require(*REQUIRED)
    incoming, user_id = posted(context, API_VERSION, "Create a job")
    body = incoming.json()
    file_id = file_id_of(body)
    language, prompt = jobs.options(body)

    client = appwrite_client(context, config)
    storage = Storage(client)
    try:
        meta = storage.get_file(bucket_id=config.audio_bucket_id, file_id=file_id)
    except AppwriteException as e:
        if is_not_found(e):
            raise ApiError("file_not_found", f"No uploaded file {file_id} in the audio bucket.", file_id=file_id) from None
        raise
    # Someone else's file looks like a missing one.
    if Permission.read(Role.user(user_id)) not in meta.permissions:
        raise ApiError("file_not_found", f"No uploaded file {file_id} in the audio bucket.", file_id=file_id)
    size = int(meta.sizeoriginal)
    jobs.check_size(size, config)
    if meta.chunksuploaded < meta.chunkstotal:
        raise ApiError("invalid_request", "The file's upload has not finished.", file_id=file_id)

    store = Store(client, config.database_id)
    already_submitted(store, file_id)
    data = storage.get_file_download(bucket_id=config.audio_bucket_id, file_id=file_id)
    info = audio.inspect(data)
    now = server_now(client, context)
    estimate = jobs.quote(store, config, user_id, info, now)
    try:
        job = jobs.create_job(
            store,
            user_id=user_id,
            file_id=file_id,
            file_name=jobs.safe_file_name(meta.name, info.extension),
            file_size=size,
            info=info,
            cost=estimate["cost"],
            language=language,
            prompt=prompt,
            api_version=incoming.api_version or API_VERSION,
            now=now,
        )
    except AppwriteException as e:
        if is_conflict(e):  # the unique index on file_id: a concurrent request won
            already_submitted(store, file_id)
        raise
    log(
        context, "job_created", job_id=job["$id"], user_id=user_id, file_id=file_id, format=info.format,
        duration_seconds=info.duration_seconds, estimated_cost=estimate["cost"], language=language, api_version=job["api_version"],
    )
    return json_response(context, {"job": jobs.public_job(job), "estimate": estimate}, 201)


main = entrypoint(handle)
