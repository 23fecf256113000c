"""Typed access to the function's variables.

Appwrite hands a function its project and function variables as environment variables; the
project model (`qw variables ENV FUNCTION`) decides their values. Each known variable has one
parser here, so every function reads `COST_PER_MINUTE` the same way and a missing or malformed
value fails with a message naming the variable and where it comes from, instead of a KeyError
deep inside a handler.
"""

import os
from decimal import Decimal, InvalidOperation
from urllib.parse import urlparse


class ConfigError(Exception):
    """A variable the function needs is missing or malformed."""

    def __init__(self, name, problem):
        self.name = name
        super().__init__(
            f"{name} {problem}. Set it as a function or project variable "
            f"(templates/shared-variables.json, environments/ENV/variables.json; `qw variables ENV FUNCTION` shows the resolved value)."
        )


def _text(name, raw):
    value = raw.strip()
    if not value:
        raise ConfigError(name, "is empty")
    return value


def _decimal(name, raw, minimum=None, positive=False):
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ConfigError(name, f"must be a number, not {raw!r}") from None
    if not value.is_finite():
        raise ConfigError(name, f"must be a finite number, not {raw!r}")
    if positive and value <= 0:
        raise ConfigError(name, f"must be greater than 0, not {raw!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, not {raw!r}")
    return value


def _whole(name, raw, minimum):
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(name, f"must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, not {raw!r}")
    return value


def _url(name, raw):
    value = _text(name, raw).rstrip("/")
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(name, f"must be an http(s) URL, not {raw!r}")
    return value


# name -> parser(name, raw). Money and sizes are Decimal so balances add up exactly.
PARSERS = {
    "AUDIO_BUCKET_ID": _text,
    "COST_PER_MINUTE": lambda n, r: _decimal(n, r, minimum=Decimal(0)),
    "DATABASE_ID": _text,
    "DEFAULT_USER_CREDITS": lambda n, r: _decimal(n, r, minimum=Decimal(0)),
    "MAX_FILE_SIZE_MB": lambda n, r: _decimal(n, r, positive=True),
    "OPENAI_API_KEY": _text,
    "OPENAI_BASE_URL": _url,
    "RETENTION_DAYS": lambda n, r: _whole(n, r, 1),
    "STUCK_JOB_MINUTES": lambda n, r: _whole(n, r, 1),
    "WHISPER_MODEL": _text,
}


class Config:
    """The variables of one execution, parsed on first use."""

    def __init__(self, environ=None):
        self._environ = os.environ if environ is None else environ
        self._cache = {}

    def get(self, name):
        """The parsed value of `name`; ConfigError when it is unset or malformed."""
        if name not in self._cache:
            parser = PARSERS.get(name, _text)
            raw = self._environ.get(name)
            if raw is None:
                raise ConfigError(name, "is not set")
            self._cache[name] = parser(name, raw)
        return self._cache[name]

    def require(self, *names):
        """Checks every name at once, so one error lists all that are missing or wrong."""
        problems = []
        for name in names:
            try:
                self.get(name)
            except ConfigError as e:
                problems.append(e)
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise ConfigError(", ".join(p.name for p in problems), "are missing or malformed: " + "; ".join(str(p) for p in problems))
        return self

    @property
    def audio_bucket_id(self) -> str:
        return self.get("AUDIO_BUCKET_ID")

    @property
    def cost_per_minute(self) -> Decimal:
        return self.get("COST_PER_MINUTE")

    @property
    def database_id(self) -> str:
        return self.get("DATABASE_ID")

    @property
    def default_user_credits(self) -> Decimal:
        return self.get("DEFAULT_USER_CREDITS")

    @property
    def max_file_size_bytes(self) -> int:
        return int(self.get("MAX_FILE_SIZE_MB") * 1024 * 1024)

    @property
    def max_file_size_mb(self) -> Decimal:
        return self.get("MAX_FILE_SIZE_MB")

    @property
    def openai_api_key(self) -> str:
        return self.get("OPENAI_API_KEY")

    @property
    def openai_base_url(self) -> str:
        return self.get("OPENAI_BASE_URL")

    @property
    def retention_days(self) -> int:
        return self.get("RETENTION_DAYS")

    @property
    def stuck_job_minutes(self) -> int:
        return self.get("STUCK_JOB_MINUTES")

    @property
    def whisper_model(self) -> str:
        return self.get("WHISPER_MODEL")

    @property
    def endpoint(self) -> str:
        """The Appwrite API endpoint the platform gives every execution."""
        return self._platform("APPWRITE_FUNCTION_API_ENDPOINT")

    @property
    def project_id(self) -> str:
        return self._platform("APPWRITE_FUNCTION_PROJECT_ID")

    @property
    def function_id(self) -> str:
        return self._environ.get("APPWRITE_FUNCTION_ID", "")

    def _platform(self, name):
        value = self._environ.get(name, "").strip()
        if not value:
            raise ConfigError(name, "is not set (Appwrite sets it for every execution; is this running outside a function runtime?)")
        return value
