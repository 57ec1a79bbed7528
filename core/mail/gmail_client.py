"""The Gmail API client: building it, retrying it, and turning its errors into ours.

Google's client library does the HTTP; this module decides what a failure means.
429 and 5xx are retried with exponential backoff and jitter, then raised as
QuotaExceeded / TransientError; a grant that a refresh cannot fix is ReauthRequired.
"""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from core.errors import QuotaExceeded, ReauthRequired, TransientError
from core.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


class _BatchIncomplete(Exception):
    """Some requests of a batch answered 429/5xx; they go again after a wait."""

    def __init__(self, statuses: list[int]) -> None:
        super().__init__(f"{len(statuses)} batch requests failed: {statuses}")
        self.statuses = statuses


def build_service(credentials: Credentials, *, settings: Settings) -> Any:
    """A Gmail v1 client from the bundled discovery document (no network)."""
    # An explicit httplib2 object gives every call, token refreshes included, the
    # configured timeout.
    http = google_auth_httplib2.AuthorizedHttp(
        credentials, http=httplib2.Http(timeout=settings.http_timeout_seconds)
    )
    return build(
        "gmail",
        "v1",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": settings.google_api_endpoint},
    )


def status_of(err: BaseException) -> int | None:
    if isinstance(err, HttpError):
        return int(err.resp.status)
    if isinstance(err, _BatchIncomplete):
        return max(err.statuses)
    return None


def _retryable(err: BaseException) -> bool:
    if isinstance(err, _BatchIncomplete):
        return True
    if isinstance(
        err, socket.timeout | TimeoutError | ConnectionError | TransportError
    ):
        return True
    status = status_of(err)
    return status is not None and (status == 429 or status >= 500)


def _quota_answer(err: BaseException) -> bool:
    return status_of(err) == 429


class GmailCaller:
    """Runs Gmail requests for one tenant with retries and typed errors."""

    def __init__(self, service: Any, *, user_id: str, settings: Settings) -> None:
        self.service = service
        self.user_id = user_id
        self.settings = settings

    def call(self, make_request: Callable[[], Any], *, idempotent: bool = True) -> Any:
        """Execute `make_request()` with retries; a fresh request object each try.

        A request that is not `idempotent` (a send) goes again only after a 429,
        which Gmail answers before doing anything: after a 5xx or a lost answer
        the mail may already be out, and a retry could send it twice."""

        def execute() -> Any:
            return make_request().execute(num_retries=0)

        if idempotent:
            return self._retrying(execute)
        try:
            return self._retrying(execute, retry_when=_quota_answer)
        except HttpError as err:
            if (status_of(err) or 0) < 500:
                raise
            raise TransientError(
                f"Gmail answered {status_of(err)} while sending for {self.user_id}; "
                "the reply may have gone out, so look in Sent before trying again."
            ) from err

    def fetch_batch(self, requests: dict[str, Any]) -> dict[str, Any]:
        """Run {key: request} as batch requests; {key: response}; 404s are left out.

        Only the requests that failed go again on the next attempt.
        """
        done: dict[str, Any] = {}
        pending = dict(requests)

        def attempt() -> None:
            failed = self._one_round(pending, done)
            for key in list(pending):
                if key in done or key not in failed:
                    pending.pop(key)
            if failed:
                raise _BatchIncomplete(list(failed.values()))

        self._retrying(attempt)
        return done

    def _one_round(
        self, pending: dict[str, Any], done: dict[str, Any]
    ) -> dict[str, int]:
        failed: dict[str, int] = {}
        size = self.settings.gmail_batch_size
        keys = list(pending)
        for start in range(0, len(keys), size):
            chunk = keys[start : start + size]
            failed.update(self._send_batch({k: pending[k] for k in chunk}, done))
        return failed

    def _send_batch(
        self, chunk: dict[str, Any], done: dict[str, Any]
    ) -> dict[str, int]:
        failed: dict[str, int] = {}

        def collect(key: str, response: Any, error: HttpError | None) -> None:
            if error is None:
                done[key] = response
                return
            status = int(error.resp.status)
            if status == 404:
                log.info("message %s vanished before it was fetched", key)
                return
            if status == 429 or status >= 500:
                failed[key] = status
                return
            raise error

        # The service's own batch factory ignores api_endpoint and takes no URI, so
        # the batch is built here with the configured one.
        batch = BatchHttpRequest(
            callback=collect, batch_uri=self.settings.google_batch_uri
        )
        for key, request in chunk.items():
            batch.add(request, request_id=key)
        batch.execute()
        return failed

    def _retrying(
        self,
        action: Callable[[], T],
        retry_when: Callable[[BaseException], bool] = _retryable,
    ) -> T:
        base = self.settings.gmail_retry_base_seconds
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.gmail_retry_attempts),
            wait=wait_exponential_jitter(multiplier=base, max=base * 32, jitter=base),
            retry=retry_if_exception(retry_when),
            before_sleep=self._log_retry,
            reraise=False,
        )
        try:
            return retrying(action)
        except RetryError as err:
            raise self._exhausted(err.last_attempt.exception()) from err
        except RefreshError as err:
            if err.retryable:
                # google-auth has already retried the token endpoint's 5xx.
                raise TransientError(
                    f"Google's token endpoint is failing for {self.user_id}; "
                    "the next tick tries again."
                ) from err
            raise ReauthRequired(self.user_id, _refresh_detail(err)) from err
        except HttpError as err:
            typed = self._typed(err)
            if typed is err:
                raise
            raise typed from err

    def _log_retry(self, state: Any) -> None:
        log.warning(
            "Gmail request for %s failed (%s); retry %d follows",
            self.user_id,
            state.outcome.exception(),
            state.attempt_number,
        )

    def _exhausted(self, err: BaseException | None) -> Exception:
        if err is not None and status_of(err) == 429:
            return QuotaExceeded(self.user_id)
        return TransientError(
            f"Gmail did not answer for {self.user_id} after "
            f"{self.settings.gmail_retry_attempts} attempts ({err}); "
            "the next tick tries again."
        )

    def _typed(self, err: HttpError) -> Exception:
        status = int(err.resp.status)
        if status in (401, 403) and _auth_problem(err):
            return ReauthRequired(self.user_id, f"Gmail answered {status}")
        return err


def _auth_problem(err: HttpError) -> bool:
    if int(err.resp.status) == 401:
        return True
    # 403 also means quota or a disabled API; only an auth reason is a grant problem.
    return "insufficient" in str(err).lower() or "auth" in str(err).lower()


def _refresh_detail(err: RefreshError) -> str:
    text = str(err)
    if "invalid_grant" in text:
        return "the grant was revoked or expired (invalid_grant)"
    return "the token could not be refreshed"


def decode_raw(data: str) -> bytes:
    """Gmail's base64url, with or without its padding."""
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def encode_raw(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))
