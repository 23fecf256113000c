"""Typed variables with errors that name the variable."""

from decimal import Decimal

import pytest

from shared.config import Config, ConfigError


def test_values_are_parsed_to_their_types():
    c = Config({
        "COST_PER_MINUTE": "0.006", "MAX_FILE_SIZE_MB": "10", "RETENTION_DAYS": "30", "DATABASE_ID": "main-dev",
        "OPENAI_BASE_URL": "http://127.0.0.1:8095/v1/", "DEFAULT_USER_CREDITS": "50.0",
        "APPWRITE_FUNCTION_API_ENDPOINT": "http://x/v1", "APPWRITE_FUNCTION_PROJECT_ID": "p",
    })
    assert c.cost_per_minute == Decimal("0.006")
    assert c.max_file_size_bytes == 10 * 1024 * 1024
    assert c.retention_days == 30
    assert c.database_id == "main-dev"
    assert c.openai_base_url == "http://127.0.0.1:8095/v1"
    assert c.default_user_credits == Decimal("50.0")
    assert (c.endpoint, c.project_id) == ("http://x/v1", "p")


@pytest.mark.parametrize("env, name, words", [
    ({}, "DATABASE_ID", "is not set"),
    ({"DATABASE_ID": "  "}, "DATABASE_ID", "is empty"),
    ({"COST_PER_MINUTE": "cheap"}, "COST_PER_MINUTE", "must be a number"),
    ({"COST_PER_MINUTE": "-1"}, "COST_PER_MINUTE", "at least 0"),
    ({"COST_PER_MINUTE": "NaN"}, "COST_PER_MINUTE", "finite"),
    ({"MAX_FILE_SIZE_MB": "0"}, "MAX_FILE_SIZE_MB", "greater than 0"),
    ({"RETENTION_DAYS": "1.5"}, "RETENTION_DAYS", "whole number"),
    ({"STUCK_JOB_MINUTES": "0"}, "STUCK_JOB_MINUTES", "at least 1"),
    ({"OPENAI_BASE_URL": "api.openai.com"}, "OPENAI_BASE_URL", "http(s) URL"),
])
def test_missing_and_malformed_values_name_the_variable(env, name, words):
    with pytest.raises(ConfigError) as e:
        Config(env).get(name)
    assert e.value.name == name and str(e.value).startswith(name) and words in str(e.value)
    assert "qw variables" in str(e.value)


def test_require_reports_every_problem_at_once():
    with pytest.raises(ConfigError) as e:
        Config({"DATABASE_ID": "db", "COST_PER_MINUTE": "x"}).require("DATABASE_ID", "COST_PER_MINUTE", "AUDIO_BUCKET_ID")
    assert e.value.name == "COST_PER_MINUTE, AUDIO_BUCKET_ID"
    assert "must be a number" in str(e.value) and "AUDIO_BUCKET_ID is not set" in str(e.value)


def test_platform_variables_explain_where_they_come_from():
    with pytest.raises(ConfigError) as e:
        Config({}).endpoint
    assert "APPWRITE_FUNCTION_API_ENDPOINT" in str(e.value) and "function runtime" in str(e.value)
