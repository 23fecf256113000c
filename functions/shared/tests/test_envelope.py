"""The gateway → function envelope: bytes survive, credentials do not travel, limits hold."""

import json
import os

import pytest

from shared import envelope
from shared.utils import ApiError


class Req:
    def __init__(self, headers, body, method="POST", path="/", query=None):
        self.headers = headers
        self.body_binary = body
        self.method = method
        self.path = path
        self.query = query or {}


class Ctx:
    def __init__(self, headers, body):
        self.req = Req(headers, body)


def test_binary_bodies_round_trip_byte_for_byte():
    body = os.urandom(4096) + b"\r\n--boundary\r\n\x00\xff"
    text, headers = envelope.wrap(
        api_version="v1", route="/v1/upload", user_id="u1", scopes=["transcriptions.write"], method="POST", path="/v1/upload",
        query={"filename": "a.wav"},
        headers={"Content-Type": "audio/wav", "Authorization": "Bearer secret", "X-Appwrite-JWT": "jwt", "Cookie": "a=b", "X-Trace": "t"},
        body=body,
    )
    assert isinstance(text, str) and headers == {"x-qw-envelope": "1", "content-type": "application/json"}
    assert "secret" not in text and "jwt" not in text and "a=b" not in text
    got = envelope.unwrap(Ctx(headers, text.encode()))
    assert got.body == body and got.via_gateway
    assert (got.user_id, got.scopes, got.api_version, got.route) == ("u1", ["transcriptions.write"], "v1", "/v1/upload")
    assert (got.method, got.path, got.query) == ("POST", "/v1/upload", {"filename": "a.wav"})
    assert got.headers == {"content-type": "audio/wav", "x-trace": "t"}


def test_a_direct_execution_is_read_as_it_came():
    got = envelope.unwrap(Ctx({"content-type": "application/json", "x-appwrite-user-id": "u2"}, b'{"fileId": "f"}'), "v2")
    assert (got.user_id, got.api_version, got.via_gateway) == ("u2", "v2", False)
    assert got.json() == {"fileId": "f"}


def test_a_body_too_large_to_forward_is_refused_with_413():
    with pytest.raises(ApiError) as e:
        envelope.wrap(api_version="v1", route="/v1/upload", user_id="u", scopes=[], method="POST", path="/", query={}, headers={},
                      body=bytes(envelope.MAX_FORWARDED_BODY + 1))
    assert (e.value.status, e.value.code) == (413, "payload_too_large") and "/v2/upload" in e.value.message
    # The largest forwardable body fits the execution's 10 MiB string limit.
    text, _ = envelope.wrap(api_version="v1", route="/v1/upload", user_id="u", scopes=[], method="POST", path="/", query={}, headers={},
                            body=bytes(envelope.MAX_FORWARDED_BODY))
    assert len(text) <= envelope.EXECUTION_BODY_LIMIT


@pytest.mark.parametrize("body", [b"not json", b'{"request": 1}', json.dumps({"request": {"body_base64": "***"}}).encode()])
def test_a_malformed_envelope_is_a_400(body):
    with pytest.raises(ApiError) as e:
        envelope.unwrap(Ctx({"x-qw-envelope": "1"}, body))
    assert (e.value.status, e.value.code) == (400, "invalid_request")


def test_json_bodies_must_be_objects():
    with pytest.raises(ApiError) as e:
        envelope.unwrap(Ctx({}, b"[1, 2]")).json()
    assert e.value.code == "invalid_request"
    assert envelope.unwrap(Ctx({}, b"  ")).json() == {}
