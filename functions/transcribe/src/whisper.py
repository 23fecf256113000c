"""The Whisper transcription API (OpenAI's `POST /audio/transcriptions`, or the emulator's
OpenAI-compatible endpoint in dev): one multipart request with `requests`, the official client's
wire format, retried once on rate limits, server errors and connection failures."""

import time

import requests

TIMEOUT = (10, 300)
RETRY_STATUSES = {429, 500, 502, 503, 504}


class TranscriptionError(Exception):
    """The API refused or failed; the message is safe to store on the job."""


def transcribe(base_url, api_key, model, *, data, file_name, mime_type, language=None, prompt=None, attempts=2, session=None):
    """The transcript text of `data`."""
    http = session or requests
    fields = {"model": model, "response_format": "json"}
    if language:
        fields["language"] = language
    if prompt:
        fields["prompt"] = prompt
    url = base_url.rstrip("/") + "/audio/transcriptions"
    last = None
    for attempt in range(attempts):
        try:
            response = http.post(
                url,
                headers={"Authorization": f"Bearer {api_key}"},
                data=fields,
                files={"file": (file_name, data, mime_type)},
                timeout=TIMEOUT,
            )
        except requests.RequestException as e:
            last = TranscriptionError(f"the transcription API could not be reached: {e.__class__.__name__}")
        else:
            if response.status_code == 200:
                try:
                    return str(response.json()["text"]).strip()
                except (ValueError, KeyError, TypeError):
                    raise TranscriptionError("the transcription API answered without a transcript") from None
            last = TranscriptionError(f"the transcription API answered {response.status_code}: {_message(response)}")
            if response.status_code not in RETRY_STATUSES:
                raise last
        if attempt + 1 < attempts:
            time.sleep(1.0)
    raise last


def _message(response):
    """OpenAI's `{"error": {"message": …}}`, else the start of the body."""
    try:
        return str(response.json()["error"]["message"])[:500]
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
