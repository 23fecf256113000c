"""upload-audio-v2's request checks, through its real entrypoint: the fileId and the options."""

import asyncio
import json

import pytest

from shared import envelope

VARIABLES = {"AUDIO_BUCKET_ID": "audio", "COST_PER_MINUTE": "0.006", "DATABASE_ID": "main-dev", "DEFAULT_USER_CREDITS": "50", "MAX_FILE_SIZE_MB": "10"}


@pytest.fixture(scope="module")
def v2(staged):
    return staged("upload-audio-v2")


@pytest.fixture(autouse=True)
def variables(monkeypatch):
    for k, v in VARIABLES.items():
        monkeypatch.setenv(k, v)


def call(v2, make_context, parse, payload, user_id="user1", method="POST"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    text, headers = envelope.wrap(
        api_version="v2", route="/v2/upload", user_id=user_id, scopes=["transcriptions.write"], method=method,
        path="/v2/upload", query={}, headers={"content-type": "application/json"}, body=body,
    )
    status, answer, _ = parse(asyncio.run(v2.main(make_context(path="/v2/upload", headers=headers, body=text.encode()))))
    return status, answer["error"]["code"], answer["error"]


@pytest.mark.parametrize("payload, field", [
    ({}, "fileId"),
    ({"fileId": ""}, "fileId"),
    ({"fileId": 12}, "fileId"),
    ({"fileId": "x" * 37}, "fileId"),
    ({"fileId": "f1", "language": "English"}, "language"),
    ({"fileId": "f1", "language": 7}, "language"),
    ({"fileId": "f1", "prompt": "p" * 1001}, "prompt"),
    ({"fileId": "f1", "prompt": ["a"]}, "prompt"),
])
def test_bad_requests_name_their_field(v2, make_context, parse, payload, field):
    status, code, error = call(v2, make_context, parse, payload)
    assert (status, code, error.get("field")) == (400, "invalid_request", field)


def test_the_body_must_be_a_json_object(v2, make_context, parse):
    assert call(v2, make_context, parse, b"fileId=f1")[:2] == (400, "invalid_request")
    assert call(v2, make_context, parse, [1])[:2] == (400, "invalid_request")


def test_a_user_and_post_are_required(v2, make_context, parse):
    assert call(v2, make_context, parse, {"fileId": "f1"}, user_id="")[:2] == (401, "unauthorized")
    assert call(v2, make_context, parse, {"fileId": "f1"}, method="GET")[:2] == (405, "method_not_allowed")


def test_good_options_pass(staged):
    jobs = staged("upload-audio-v2", "shared.jobs")
    assert jobs.options({"language": "en", "prompt": "QuixoticWhisper"}) == ("en", "QuixoticWhisper")
    assert jobs.options({"language": "pt-BR"}) == ("pt-BR", None)
    assert jobs.options({}) == (None, None)
