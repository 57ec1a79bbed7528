"""Settings: bad values stop start-up with one line and exit 2; missing ones warn."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from core import crypto
from core.checks import run_checks
from core.errors import ConfigError
from core.settings import Settings, load_settings
from tests.cli_support import run_cli


@pytest.mark.parametrize(
    ("env", "setting", "words"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL", "not a database URL"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL", "unsupported driver"),
        ({"SECRET_KEY": "hunter2"}, "SECRET_KEY", "not a Fernet key"),
        (
            {"DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:1/db"},
            "SECRET_KEY",
            "required with a non-SQLite database",
        ),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE", "unknown timezone"),
        (
            {"GOOGLE_CLIENT_SECRETS_FILE": "/nonexistent/client.json"},
            "GOOGLE_CLIENT_SECRETS_FILE",
            "cannot read",
        ),
        ({"MIN_INTERVAL_SECONDS": "often"}, "MIN_INTERVAL_SECONDS", "valid integer"),
        ({"TICK_SPREAD_SECONDS": "60"}, "TICK_SPREAD_SECONDS", "between 0"),
        ({"LLM_MODEL": "bogus"}, "LLM_MODEL", "neither rules nor provider:model"),
    ],
)
def test_bad_setting_stops_startup_with_one_line(
    tmp_path: Path, env: dict[str, str], setting: str, words: str
) -> None:
    result = run_cli(tmp_path, "db", "upgrade", env=env)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert setting in lines[0] and words in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "mailcron.db").exists()


def test_secret_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    client = tmp_path / "client.json"
    client.write_text("{not json")

    result = run_cli(
        tmp_path, "db", "upgrade", env={"GOOGLE_CLIENT_SECRETS_FILE": str(client)}
    )

    assert result.returncode == 2
    assert "GOOGLE_CLIENT_SECRETS_FILE" in result.stderr and "not JSON" in result.stderr


def test_missing_google_client_file_is_a_startup_check_not_an_error(
    sqlite_settings: Settings,
) -> None:
    checks = {check.id: check for check in run_checks(sqlite_settings)}

    assert "google_client_missing" in checks
    assert "GOOGLE_CLIENT_SECRETS_FILE" in checks["google_client_missing"].hint
    assert "schema_not_migrated" not in checks


def test_a_good_client_file_clears_the_check(
    configure: Callable[..., Settings], tmp_path: Path
) -> None:
    client = tmp_path / "client.json"
    client.write_text(json.dumps({"web": {"client_id": "x", "client_secret": "y"}}))

    settings = configure(GOOGLE_CLIENT_SECRETS_FILE=str(client))

    assert "google_client_missing" not in {c.id for c in run_checks(settings)}


def test_unmigrated_database_is_reported_by_a_check(
    configure: Callable[..., Settings],
) -> None:
    settings = configure()

    assert "schema_not_migrated" in {c.id for c in run_checks(settings)}


def test_llm_model_without_its_key_is_reported(
    configure: Callable[..., Settings],
) -> None:
    settings = configure(LLM_MODEL="openai:gpt-4o-mini")

    check = {c.id: c for c in run_checks(settings)}["llm_key_missing"]

    assert "OPENAI_API_KEY" in check.hint


def test_sqlite_without_key_generates_one_private_key_and_reuses_it(
    configure: Callable[..., Settings],
) -> None:
    settings = configure()

    first = crypto.keys(settings)
    second = crypto.keys(settings)
    key_file = crypto.key_file(settings)

    assert first == second and len(first) == 1
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert crypto.decrypt(crypto.encrypt("token", settings), settings) == "token"


def test_database_url_defaults_to_a_file_under_the_data_dir(
    configure: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = configure()

    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}"
    assert settings.default_timezone == "UTC"
    assert settings.llm_model == "rules"
    assert settings.min_interval_seconds == 60
    assert settings.run_retention_days == 30


def test_several_keys_decrypt_old_tokens_and_encrypt_with_the_newest(
    configure: Callable[..., Settings],
) -> None:
    old, new = crypto.new_key(), crypto.new_key()
    old_settings = configure(SECRET_KEY=old)
    token = crypto.encrypt("refresh-me", old_settings)

    both = configure(SECRET_KEY=f"{new},{old}")
    rotated = crypto.reencrypt(token, both)
    only_new = configure(SECRET_KEY=new)

    assert crypto.decrypt(token, both) == "refresh-me"
    assert rotated is not None and crypto.decrypt(rotated, only_new) == "refresh-me"
    assert crypto.decrypt(token, only_new) is None


@pytest.mark.parametrize(
    ("overrides", "setting", "words"),
    [
        ({"http_timeout_seconds": "-1"}, "HTTP_TIMEOUT_SECONDS", "above 0"),
        ({"gmail_retry_base_seconds": "nan"}, "GMAIL_RETRY_BASE_SECONDS", "0 or more"),
        ({"gmail_batch_size": "1000"}, "GMAIL_BATCH_SIZE", "Gmail's batch limit"),
        ({"oauth_redirect_uri": "notaurl"}, "OAUTH_REDIRECT_URI", "not an http"),
        ({"google_api_endpoint": "ftp://x"}, "GOOGLE_API_ENDPOINT", "not an http"),
        (
            {"admin_emails": "ann@acme.example, notanemail"},
            "ADMIN_EMAILS",
            "notanemail",
        ),
        ({"llm_model": "openai:"}, "LLM_MODEL", "provider:model"),
    ],
)
def test_each_unusable_value_names_its_setting(
    tmp_path: Path, overrides: dict[str, str], setting: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(data_dir=tmp_path, **overrides)

    assert caught.value.setting == setting
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("client", "words"),
    [
        ({"web": {"client_id": "x"}}, "has no client_secret"),
        ({"installed": {}}, "has no client_id or client_secret"),
    ],
)
def test_a_client_file_without_id_or_secret_is_refused(
    tmp_path: Path, client: dict[str, object], words: str
) -> None:
    path = tmp_path / "client.json"
    path.write_text(json.dumps(client))

    with pytest.raises(ConfigError, match=words):
        load_settings(data_dir=tmp_path, google_client_secrets_file=str(path))


def test_a_blank_client_file_setting_means_not_set(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, google_client_secrets_file=" ")

    assert settings.google_client_secrets_file is None
