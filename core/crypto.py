"""Encryption of stored tokens with Fernet; SECRET_KEY may list several keys.

The first key encrypts; every key is tried to decrypt, so a key can be rotated by
putting the new one first and re-encrypting (`python -m core rotate-key`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.settings import Settings, get_settings, split_keys

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def _generated_key(settings: Settings) -> str:
    """With SQLite and no SECRET_KEY, one key is made once and kept beside the data."""
    path = key_file(settings)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()

    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    # O_EXCL: two processes starting together must not each write their own key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    log.info("generated a new secret key file at %s", path)
    return key


def keys(settings: Settings | None = None) -> list[str]:
    settings = settings or get_settings()
    configured = split_keys(settings.secret_key)
    return configured or [_generated_key(settings)]


def cipher(settings: Settings | None = None) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys(settings)])


def encrypt(plaintext: str, settings: Settings | None = None) -> str:
    return cipher(settings).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str, settings: Settings | None = None) -> str | None:
    """The plaintext, or None when no configured key opens it."""
    try:
        return cipher(settings).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return None


def reencrypt(ciphertext: str, settings: Settings | None = None) -> str | None:
    """The same secret under the newest key, or None when no key opens it."""
    try:
        return cipher(settings).rotate(ciphertext.encode()).decode()
    except InvalidToken:
        return None


def new_key() -> str:
    return Fernet.generate_key().decode()
