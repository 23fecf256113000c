"""The audio of a v1 upload: a `multipart/form-data` body with a `file` part (the way browsers
and HTTP clients send files), or the raw bytes as the body with the name in `X-File-Name` or
`?filename=`.

Multipart bodies are split on their boundary byte for byte (no decoding of the payload), so
binary audio arrives exactly as sent.
"""

from email.message import EmailMessage
from urllib.parse import unquote

from .shared.utils import ApiError

RAW_TYPES = ("audio/", "video/", "application/octet-stream")


def _params(content_type):
    message = EmailMessage()
    message["content-type"] = content_type
    return message


def _disposition(value):
    message = EmailMessage()
    message["content-disposition"] = value
    return message.get_param("name", header="content-disposition"), message.get_filename()


def _delimiters(body, delimiter):
    """Offsets of the real delimiters (RFC 2046: CRLF, "--boundary", then "--" or optional
    whitespace and CRLF); the same bytes inside a part's content followed by anything else are
    content."""
    found, pos = [], 0
    while True:
        i = body.find(delimiter, pos)
        if i < 0:
            return found
        after = i + len(delimiter)
        tail = body[after:after + 2]
        rest = body[after:].lstrip(b" \t")
        if tail == b"--" or rest.startswith(b"\r\n"):
            found.append(i)
        pos = after


def multipart_parts(body: bytes, content_type: str):
    """[(field name, file name or None, bytes)] of a multipart/form-data body."""
    boundary = _params(content_type).get_param("boundary")
    if not boundary:
        raise ApiError("invalid_request", "multipart/form-data needs a boundary.")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    body = b"\r\n" + body  # the first delimiter has no CRLF before it
    offsets = _delimiters(body, delimiter)
    if len(offsets) < 2:
        raise ApiError("invalid_request", "The multipart body has no parts.")
    parts = []
    for start, end in zip(offsets, offsets[1:]):
        chunk = body[start + len(delimiter):end]
        _, _, chunk = chunk.partition(b"\r\n")  # transport padding and the CRLF after the delimiter
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise ApiError("invalid_request", "A multipart part has no header block.")
        name, filename = None, None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                name, filename = _disposition(value.strip())
        parts.append((name, filename, content))
    return parts


def audio_of(incoming):
    """(client file name, bytes) of the upload; 400 `invalid_request` when there is none."""
    content_type = incoming.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        for name, filename, content in multipart_parts(incoming.body, content_type):
            if name == "file":
                return filename or "audio", content
        raise ApiError("invalid_request", "The multipart body has no \"file\" part.", field="file")
    if content_type.lower().startswith(RAW_TYPES) or (incoming.body and not content_type):
        name = incoming.headers.get("x-file-name") or unquote(incoming.query.get("filename", "")) or "audio"
        return name, incoming.body
    raise ApiError(
        "invalid_request",
        "Send the audio as multipart/form-data with a \"file\" part, or as the raw body (Content-Type audio/*).",
    )
