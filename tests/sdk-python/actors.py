"""Who calls the emulator in the storage, users and permission suites: the API key, signed-in users
(a real email/password session, handed to the SDK with `set_session` as a server SDK does), and
guests; plus small generators for test files (PNG, WAV) and the raw chunk upload the SDKs send."""

import io
import struct
import uuid
import wave
import zlib

import requests
from appwrite.client import Client
from appwrite.services.account import Account
from appwrite.services.users import Users

PASSWORD = "password123"
CHUNK = 5 * 1024 * 1024


def unique(prefix="t"):
    return f"{prefix}{uuid.uuid4().hex[:16]}"


class Actor:
    """One caller: its SDK client, the raw headers that identify it, and its user ID (if any)."""

    def __init__(self, name, client, headers, user_id=None, secret=None):
        self.name = name
        self.client = client
        self.headers = headers
        self.user_id = user_id
        self.secret = secret

    def __repr__(self):
        return self.name


def key_actor(emulator):
    return Actor("key", emulator.client(), {"X-Appwrite-Project": emulator.project, "X-Appwrite-Key": emulator.api_key})


def guest_actor(emulator):
    return Actor("guest", emulator.client(key=False), {"X-Appwrite-Project": emulator.project})


def user_actor(emulator, name, labels=None, email=None):
    """A new user with a password, signed in through `createEmailPasswordSession` with the key (the
    SSR pattern: the key sees the session secret), its client using `set_session`."""
    key = emulator.client()
    user_id = unique(name)
    email = email or f"{user_id}@example.com"
    Users(key).create(user_id=user_id, email=email, password=PASSWORD, name=name)
    if labels:
        Users(key).update_labels(user_id=user_id, labels=labels)
    session = Account(key).create_email_password_session(email=email, password=PASSWORD)
    assert session.secret, "a key sees the session secret"
    client = Client().set_endpoint(emulator.endpoint).set_project(emulator.project).set_session(session.secret)
    headers = {"X-Appwrite-Project": emulator.project, "X-Appwrite-Session": session.secret}
    return Actor(name, client, headers, user_id=user_id, secret=session.secret)


def send_chunk(emulator, headers, bucket_id, file_id, data, start, size, name="big.bin", upload_id=None, permissions=None):
    """One chunk exactly as the Python SDK sends it: multipart `fileId`, `permissions[i]` and the
    `file` part, with `content-range` (inclusive end) and `x-appwrite-id` after the first chunk."""
    h = dict(headers)
    h["content-range"] = f"bytes {start}-{start + len(data) - 1}/{size}"
    if upload_id:
        h["x-appwrite-id"] = upload_id
    form = {"fileId": file_id}
    for i, p in enumerate(permissions or []):
        form[f"permissions[{i}]"] = p
    return requests.post(
        f"{emulator.endpoint}/storage/buckets/{bucket_id}/files", headers=h, data=form, files={"file": (name, data)}
    )


def png(width, height, rgba=(200, 30, 30, 255)):
    """A solid RGBA PNG, built with zlib only."""
    raw = b"".join(b"\x00" + bytes(rgba) * width for _ in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    return struct.unpack(">II", data[16:24])


def wav(seconds=0.2, rate=8000):
    """A short mono 16-bit WAV of silence, like a microphone recording."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return buf.getvalue()
