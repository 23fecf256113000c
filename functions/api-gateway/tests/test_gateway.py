"""The gateway's refusals that happen before anything is forwarded, through its real entrypoint."""

import asyncio

import pytest

from shared import envelope


@pytest.fixture(scope="module")
def gateway(staged):
    return staged("api-gateway")


@pytest.fixture(scope="module")
def access(staged):
    return staged("api-gateway", "access")


@pytest.mark.parametrize("headers, token", [
    ({"x-appwrite-jwt": "abc"}, "abc"),
    ({"authorization": "Bearer xyz"}, "xyz"),
    ({"authorization": "bearer  xyz "}, "xyz"),
    ({"authorization": "Basic dTpw"}, ""),
    ({}, ""),
])
def test_the_jwt_comes_from_either_header(access, headers, token):
    assert access.token_of(headers) == token


def test_without_a_key_the_gateway_explains_its_configuration(gateway, make_context, parse, monkeypatch):
    monkeypatch.setenv("DATABASE_ID", "main-dev")
    monkeypatch.setenv("DEFAULT_USER_CREDITS", "50")
    status, body, _ = parse(asyncio.run(gateway.main(make_context(method="GET", path="/v1/credits"))))
    assert status == 500 and body["error"]["code"] == "configuration_error"


def test_missing_variables_are_named(gateway, make_context, parse, monkeypatch):
    monkeypatch.delenv("DATABASE_ID", raising=False)
    monkeypatch.setenv("DEFAULT_USER_CREDITS", "50")
    ctx = make_context(method="GET", path="/v1/credits")
    status, body, _ = parse(asyncio.run(gateway.main(ctx)))
    assert status == 500 and body["error"]["code"] == "configuration_error" and "DATABASE_ID is not set" in body["error"]["message"]
    assert ctx.events()[-1]["event"] == "configuration_error" and ctx.events()[-1]["level"] == "error"


def test_the_forwarding_limit_fits_the_execution_limit():
    assert envelope.MAX_FORWARDED_BODY > 7 * 1024 * 1024
