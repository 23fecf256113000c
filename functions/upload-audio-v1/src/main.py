"""upload-audio-v1: Version 1 upload: takes the audio file in the request, checks its size, duration and the user's credits, stores it and creates the transcription job.

Reached through api-gateway (`POST /v1/upload`, the audio as multipart `file` or the raw body).
Order matters for "refused means nothing stored": size, format and duration are checked on the
bytes, then the credits, and only then is the file stored and the job created (the file is
removed again if the job cannot be). The job's creation event starts `transcribe`.
"""

from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.input_file import InputFile
from appwrite.services.storage import Storage

from .form import audio_of
from .shared import audio, jobs
from .shared.config import Config
from .shared.envelope import posted
from .shared.ledger import owner_read
from .shared.store import Store
from .shared.utils import appwrite_client, entrypoint, json_response, log, server_now

API_VERSION = "v1"
REQUIRED = ("AUDIO_BUCKET_ID", "COST_PER_MINUTE", "DATABASE_ID", "DEFAULT_USER_CREDITS", "MAX_FILE_SIZE_MB")


def handle(context):
    config = Config().require(*REQUIRED)
    incoming, user_id = posted(context, API_VERSION, "Upload")
    name, data = audio_of(incoming)
    jobs.check_size(len(data), config)
    info = audio.inspect(data)

    client = appwrite_client(context, config)
    now = server_now(client, context)
    store = Store(client, config.database_id)
    estimate = jobs.quote(store, config, user_id, info, now)

    storage = Storage(client)
    file_name = jobs.safe_file_name(name, info.extension)
    stored = storage.create_file(
        bucket_id=config.audio_bucket_id,
        file_id=ID.unique(),
        file=InputFile.from_bytes(data, file_name, info.mime_type),
        permissions=owner_read(user_id),
    )
    try:
        job = jobs.create_job(
            store,
            user_id=user_id,
            file_id=stored.id,
            file_name=file_name,
            file_size=len(data),
            info=info,
            cost=estimate["cost"],
            language=None,
            prompt=None,
            api_version=incoming.api_version or API_VERSION,
            now=now,
        )
    except AppwriteException:
        storage.delete_file(bucket_id=config.audio_bucket_id, file_id=stored.id)
        raise
    log(
        context, "job_created", job_id=job["$id"], user_id=user_id, file_id=stored.id, format=info.format,
        duration_seconds=info.duration_seconds, estimated_cost=estimate["cost"], api_version=job["api_version"],
    )
    return json_response(context, {"job": jobs.public_job(job), "estimate": estimate}, 201)


main = entrypoint(handle)
