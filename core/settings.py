"""The one settings object: read once from the environment and an optional `.env`.

Nothing else in mailcron reads `os.environ` or `st.secrets`. A value that cannot be
used raises `ConfigError` naming the setting; entry points turn that into one line on
stderr and exit status 2.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.errors import ConfigError, first_problem
from core.timeutil import Timezone

SUPPORTED_DRIVERS = ("sqlite", "postgresql+psycopg")
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("data")
    database_url: str = ""
    secret_key: str = ""
    default_timezone: Timezone = "UTC"

    google_client_secrets_file: Path | None = None
    oauth_redirect_uri: str = "http://127.0.0.1:8501/"
    google_api_endpoint: str = "https://gmail.googleapis.com"
    google_batch_uri: str = "https://gmail.googleapis.com/batch/gmail/v1"
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    google_revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    initial_sync_hours: int = 24
    # Gmail client: every HTTP call times out; 429/5xx are retried with exponential
    # backoff starting at gmail_retry_base_seconds (tests make it tiny).
    http_timeout_seconds: float = 30.0
    gmail_retry_attempts: int = 5
    gmail_retry_base_seconds: float = 1.0
    gmail_batch_size: int = 50
    full_sync_max_messages: int = 500

    llm_model: str = "rules"
    openai_api_key: str = ""
    anthropic_api_key: str = ""
    send_mode: Literal["send", "gmail_draft"] = "send"

    min_interval_seconds: int = 60
    misfire_grace_seconds: int = 300
    lease_seconds: int = 30
    # Minute-level crons start a fixed 0..N-1 s after their minute, by tenant, so
    # a thousand every-minute tenants do not all claim their tick in one second.
    tick_spread_seconds: int = 30
    worker_pool_size: int = 8
    run_time_limit_seconds: int = 600
    max_consecutive_failures: int = 10
    run_retention_days: int = 30
    thread_retention_days: int = 90

    admin_emails: str = ""
    api_token: str = ""

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL; expected sqlite:///path/file.db or "
                "postgresql+psycopg://user:password@host/db"
            ) from None
        if url.drivername not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"unsupported driver {url.drivername!r}; use one of "
                + ", ".join(SUPPORTED_DRIVERS)
            )
        return value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: str) -> str:
        for key in split_keys(value):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                raise ValueError(
                    "not a Fernet key (32 url-safe base64-encoded bytes); make one "
                    "with: python -m core gen-key"
                ) from None
        return value

    @field_validator("google_client_secrets_file", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `GOOGLE_CLIENT_SECRETS_FILE=` in a .env means "not yet", not the cwd.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("google_client_secrets_file")
    @classmethod
    def _check_client_file(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        try:
            data = json.loads(value.read_text(encoding="utf-8"))
        except OSError as err:
            raise ValueError(f"cannot read {value}: {err.strerror}") from None
        except ValueError:
            raise ValueError(f"{value} is not JSON") from None
        if not isinstance(data, dict) or not ({"web", "installed"} & data.keys()):
            raise ValueError(
                f"{value} is not an OAuth client file (no 'web' or 'installed' key)"
            )
        client = data.get("web") or data.get("installed")
        missing = [k for k in ("client_id", "client_secret") if not _has(client, k)]
        if missing:
            raise ValueError(f"{value} has no {' or '.join(missing)}")
        return value

    @field_validator(
        "oauth_redirect_uri",
        "google_api_endpoint",
        "google_batch_uri",
        "google_auth_uri",
        "google_token_uri",
        "google_revoke_uri",
    )
    @classmethod
    def _check_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @field_validator("llm_model")
    @classmethod
    def _check_model_name(cls, value: str) -> str:
        provider, _, model = value.partition(":")
        if value != "rules" and not (provider.strip() and model.strip()):
            raise ValueError(
                f"{value!r} is neither rules nor provider:model, such as "
                "openai:gpt-4o-mini"
            )
        return value

    @field_validator("http_timeout_seconds")
    @classmethod
    def _check_timeout(cls, value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise ValueError("must be a number of seconds above 0")
        return value

    @field_validator("gmail_retry_base_seconds")
    @classmethod
    def _check_backoff(cls, value: float) -> float:
        if not math.isfinite(value) or value < 0:
            raise ValueError("must be a number of seconds, 0 or more")
        return value

    @field_validator("gmail_batch_size")
    @classmethod
    def _check_batch_size(cls, value: int) -> int:
        # Gmail refuses batches of more than 100 calls.
        if not 1 <= value <= 100:
            raise ValueError("must be between 1 and 100, Gmail's batch limit")
        return value

    @field_validator("admin_emails")
    @classmethod
    def _check_admin_emails(cls, value: str) -> str:
        for email in (part.strip() for part in value.split(",")):
            if email and (" " in email or not EMAIL_SHAPE.fullmatch(email)):
                raise ValueError(f"{email!r} is not an email address")
        return value

    @field_validator(
        "min_interval_seconds",
        "lease_seconds",
        "worker_pool_size",
        "run_time_limit_seconds",
        "max_consecutive_failures",
        "gmail_retry_attempts",
        "full_sync_max_messages",
    )
    @classmethod
    def _check_positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("tick_spread_seconds")
    @classmethod
    def _check_spread(cls, value: int) -> int:
        # Below a minute, so a tick never starts after the next minute's nominal time.
        if not 0 <= value <= 59:
            raise ValueError("must be between 0 (no spread) and 59 seconds")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'mailcron.db'}"
        if self.is_sqlite:
            _check_sqlite_file(self.database_url, self.data_dir)
        if not self.secret_key and not self.is_sqlite:
            raise ValueError(
                "SECRET_KEY: required with a non-SQLite database, since every host "
                "must share it; make one with: python -m core gen-key"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def admin_email_set(self) -> frozenset[str]:
        return frozenset(
            e.strip().casefold() for e in self.admin_emails.split(",") if e.strip()
        )


def _check_sqlite_file(url: str, data_dir: Path) -> None:
    database = make_url(url).database or ""
    if database in ("", ":memory:"):
        raise ValueError(
            "DATABASE_URL: a SQLite URL must name a file, such as "
            "sqlite:///data/mailcron.db"
        )
    # DATA_DIR is ours to create; any other folder must exist, so a typo in the
    # path is an error rather than a new, empty database somewhere else.
    folder = Path(database).resolve().parent
    if not folder.is_dir() and not folder.is_relative_to(data_dir.resolve()):
        raise ValueError(f"DATABASE_URL: the folder {folder} does not exist")


def _has(client: object, key: str) -> bool:
    return isinstance(client, dict) and bool(client.get(key))


def split_keys(value: str) -> list[str]:
    """SECRET_KEY may hold several Fernet keys, newest first, separated by commas."""
    return [key.strip() for key in value.split(",") if key.strip()]


def load_settings(**overrides: object) -> Settings:
    """Build the settings, or raise ConfigError naming the first bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        loc, _, problem = first_problem(err.errors())
        name = str(loc[0]).upper() if loc else ""
        if not name and ":" in problem:
            name, problem = (part.strip() for part in problem.split(":", 1))
        raise ConfigError(name or "settings", problem) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
