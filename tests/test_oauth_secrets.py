"""Tokens at rest: only ciphertext in the database, nothing in logs, keys rotate."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from core import crypto, db, jobs, oauth, tenants
from core.cli import main
from core.errors import DecryptionFailed, ReauthRequired
from core.key_rotation import rotate_key
from core.mail import source_for
from core.mail.credentials import load_credentials
from core.settings import Settings
from tests.cli_support import cli_many
from tests.console.pages_kit import open_page
from tests.fakes.fake_gmail import FakeGmail
from tests.oauth_support import google_env, google_settings

ACCOUNT = "carol@example.com"
SECOND_ACCOUNT = "dave@example.com"


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
    _connect(settings, fake_gmail, ACCOUNT)
    return settings


def _connect(settings: Settings, fake_gmail: FakeGmail, account: str) -> None:
    fake_gmail.oauth.consent.account = account
    answer = fake_gmail.oauth.visit(oauth.start_connect(settings=settings))
    oauth.finish_connect(
        settings=settings, state=answer["state"], code=answer["code"], actor="admin:t"
    )


def _secrets(fake_gmail: FakeGmail) -> list[str]:
    """Every token the fake Google has handed out so far."""
    return [*fake_gmail.access_tokens, *fake_gmail.refresh_tokens]


def _page_text(at: AppTest) -> str:
    """Everything the page sends to the browser: each element, each table as CSV."""
    parts = [str(node.proto) for block in (at.main, at.sidebar) for node in block]
    parts.extend(frame.value.to_csv() for frame in at.dataframe)
    return "\n".join(parts)


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
    connected: Settings, fake_gmail: FakeGmail
) -> None:
    _connect(connected, fake_gmail, SECOND_ACCOUNT)
    old, new = connected.secret_key, crypto.new_key()
    both = connected.model_copy(update={"secret_key": f"{new},{old}"})

    result = rotate_key(settings=both)

    only_new = connected.model_copy(update={"secret_key": new})
    only_old = connected.model_copy(update={"secret_key": old})
    assert sorted(result.rotated) == [ACCOUNT, SECOND_ACCOUNT]
    assert result.unreadable == []
    for account in (ACCOUNT, SECOND_ACCOUNT):
        credentials = load_credentials(user_id=account, settings=only_new)
        assert fake_gmail.refresh_tokens[str(credentials.refresh_token)] == account
        with pytest.raises(DecryptionFailed):
            load_credentials(user_id=account, settings=only_old)


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


def test_tokens_are_not_in_the_tenant_and_cron_commands_output(
    connected: Settings, fake_gmail: FakeGmail
) -> None:
    secrets = _secrets(fake_gmail)

    results = cli_many(
        connected,
        ("tenant", "show", "--user-id", ACCOUNT, "--json"),
        ("cron", "status", "--user-id", ACCOUNT, "--json"),
        ("tenant", "show", "--user-id", ACCOUNT),
        ("cron", "status", "--user-id", ACCOUNT),
    )

    assert len(secrets) == 2
    for result in results:
        assert result.returncode == 0, result.stderr
        assert ACCOUNT in result.stdout  # the output is about the connected tenant
        for secret in secrets:
            assert secret not in result.stdout
            assert secret not in result.stderr


def test_tokens_are_not_on_the_tenants_page(
    connected: Settings, fake_gmail: FakeGmail
) -> None:
    secrets = _secrets(fake_gmail)

    at = open_page("tenants")

    shown = _page_text(at)
    # The table's CSV row: user id, email, mail source, tenant and cron status.
    assert f"{ACCOUNT},{ACCOUNT},gmail,active,active," in shown
    for secret in secrets:
        assert secret not in shown


def test_reauth_error_names_the_cause_but_not_the_tokens(
    connected: Settings, fake_gmail: FakeGmail
) -> None:
    secrets = _secrets(fake_gmail)
    fake_gmail.expire_access_tokens()
    fake_gmail.revoke(next(iter(fake_gmail.refresh_tokens)))
    tenant = tenants.get_tenant(user_id=ACCOUNT, settings=connected)

    with pytest.raises(ReauthRequired) as raised:
        source_for(tenant, settings=connected).fetch({})
    run = jobs.run_now(user_id=ACCOUNT, actor="test", settings=connected)
    at = open_page("tenants")

    shown = _page_text(at)
    assert "invalid_grant" in str(raised.value)
    assert run.status == "error"
    assert run.error_message == str(raised.value)
    assert f"paused: Needs reauthorisation: {raised.value}" in shown
    for secret in secrets:
        assert secret not in str(raised.value)
        assert secret not in shown
