"""The HTTP API served for real by uvicorn on a loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from core.api import app
from core.settings import Settings, get_settings, reset_settings

TOKEN = "test-token-5f0c2e9a"
START_TIMEOUT = 10.0


@contextmanager
def serving() -> Iterator[str]:
    """The API's base URL while it is served; the socket is bound before the start,
    so no other process can take the port in between."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="test-api", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    end = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > end:
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)


def with_token(monkeypatch: pytest.MonkeyPatch, token: str) -> Settings:
    """The current settings, with API_TOKEN set (or unset when empty)."""
    if token:
        monkeypatch.setenv("API_TOKEN", token)
    else:
        monkeypatch.delenv("API_TOKEN", raising=False)
    reset_settings()
    return get_settings()
