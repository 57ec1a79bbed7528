"""Tokens at rest: only ciphertext in the database, nothing in logs, keys rotate."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core import crypto, db, oauth
from core.cli import main
from core.errors import DecryptionFailed
from core.key_rotation import rotate_key
from core.mail.credentials import load_credentials
from core.settings import Settings
from tests.fakes.fake_gmail import FakeGmail
from tests.oauth_support import google_env, google_settings

ACCOUNT = "carol@example.com"


@pytest.fixture
def connected(
    configure: Callable[..., Settings],
    fake_gmail: FakeGmail,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> Settings:
    """A Gmail tenant connected through the whole flow, with debug logs captured."""
    caplog.set_level(logging.DEBUG)
    url = f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}"
    settings = google_settings(configure, url, fake_gmail, tmp_path, monkeypatch)
    fake_gmail.oauth.consent.account = ACCOUNT
    answer = fake_gmail.oauth.visit(oauth.start_connect(settings=settings))
    oauth.finish_connect(
        settings=settings, state=answer["state"], code=answer["code"], actor="admin:t"
    )
    return settings


def _database_bytes(settings: Settings) -> bytes:
    path = Path(str(make_url(settings.database_url).database))
    db.dispose_engines()
    return b"".join(
        candidate.read_bytes()
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )


def test_tokens_are_neither_in_the_database_file_nor_in_the_logs(
    connected: Settings, fake_gmail: FakeGmail, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = [*fake_gmail.access_tokens, *fake_gmail.refresh_tokens]

    stored = _database_bytes(connected)

    # The connect ran in the fixture, so its records are the setup phase's.
    logged = "\n".join(record.getMessage() for record in caplog.get_records("setup"))
    assert "audit gmail.connect" in logged  # debug records are captured too
    assert len(secrets) == 2
    assert ACCOUNT.encode() in stored  # the file is readable: the search is real
    for secret in secrets:
        assert secret.encode() not in stored
        assert secret not in logged
    assert "fake-client-secret" not in logged


def test_rotate_key_lets_the_old_key_go(
    connected: Settings, configure: Callable[..., Settings], fake_gmail: FakeGmail
) -> None:
    old, new = connected.secret_key, crypto.new_key()
    both = connected.model_copy(update={"secret_key": f"{new},{old}"})

    result = rotate_key(settings=both)

    only_new = connected.model_copy(update={"secret_key": new})
    credentials = load_credentials(user_id=ACCOUNT, settings=only_new)
    assert result.rotated == [ACCOUNT]
    assert result.unreadable == []
    assert fake_gmail.refresh_tokens[str(credentials.refresh_token)] == ACCOUNT


def test_a_changed_key_without_the_old_one_names_the_tenant(
    connected: Settings,
) -> None:
    other = connected.model_copy(update={"secret_key": crypto.new_key()})

    with pytest.raises(DecryptionFailed) as caught:
        load_credentials(user_id=ACCOUNT, settings=other)

    assert ACCOUNT in str(caught.value)
    assert "add the old key to SECRET_KEY" in str(caught.value)


def test_rotate_key_command_reports_unreadable_tenants(
    connected: Settings,
    configure: Callable[..., Settings],
    fake_gmail: FakeGmail,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(
        DATABASE_URL=connected.database_url,
        SECRET_KEY=crypto.new_key(),
        **google_env(fake_gmail, tmp_path),
    )

    status = main(["rotate-key", "--json"])

    out, err = capsys.readouterr()
    assert status == 1
    assert '"unreadable": [\n    "carol@example.com"' in out
    assert "cannot be read with the current SECRET_KEY" in err


def test_rotate_key_command_re_encrypts_with_the_newest_key(
    connected: Settings,
    configure: Callable[..., Settings],
    fake_gmail: FakeGmail,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    new = crypto.new_key()
    configure(
        DATABASE_URL=connected.database_url,
        SECRET_KEY=f"{new},{connected.secret_key}",
        **google_env(fake_gmail, tmp_path),
    )

    status = main(["rotate-key"])

    only_new = connected.model_copy(update={"secret_key": new})
    assert status == 0
    assert "1 Gmail tokens now use the newest key." in capsys.readouterr().out
    assert load_credentials(user_id=ACCOUNT, settings=only_new).refresh_token
