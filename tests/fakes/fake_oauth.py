"""Google's OAuth endpoints for the fake Gmail server: consent, code exchange, revoke.

The authorization endpoint answers with a small consent page whose Allow and Deny
links lead to `/o/oauth2/approve`, which sends the browser back to the redirect URI
as Google does (`code`, `state`, `scope`, or `error=access_denied`). Tests choose what
the person does on that page through the attributes below.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.client
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.gmail_wire import Request, Response, json_response

CLIENT_ID = "mailcron-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-client-secret"


@dataclass
class Consent:
    """What the person on the consent page does."""

    account: str = ""
    deny: bool = False
    # None grants every requested scope; a list grants only those.
    scopes: list[str] | None = None
    refresh_token: bool = True


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    state: str
    scopes: list[str]
    challenge: str
    extra: dict[str, str] = field(default_factory=dict)


class FakeOAuth:
    """The OAuth half of the fake; `fake` issues tokens and holds the lock."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.consent = Consent()
        self.requests: list[dict[str, str]] = []
        self.revoked: list[str] = []
        self._tickets: dict[str, _Grant] = {}
        self._codes: dict[str, tuple[_Grant, str, list[str]]] = {}

    def routes(self) -> list[tuple[str, re.Pattern[str], str, Callable[..., Response]]]:
        return [
            ("GET", re.compile(r"^/o/oauth2/auth$"), "authorize", self._authorize),
            ("GET", re.compile(r"^/o/oauth2/approve$"), "approve", self._approve),
            ("POST", re.compile(r"^/revoke$"), "revoke", self._revoke),
        ]

    def route_names(self) -> list[str]:
        return [name for _, _, name, _ in self.routes()]

    def client_file(self, folder: Path, redirect_uri: str) -> Path:
        """A client secrets file as Google Cloud's console downloads it."""
        path = folder / "client_secret.json"
        path.write_text(
            json.dumps(
                {
                    "web": {
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        "project_id": "mailcron-test",
                        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                        "token_uri": "https://oauth2.googleapis.com/token",
                        "redirect_uris": [redirect_uri],
                    }
                }
            ),
            encoding="utf-8",
        )
        return path

    # --- the browser's part, for tests without a browser -----------------------

    def visit(self, authorization_url: str) -> dict[str, str]:
        """Open the consent page, click the choice, return the redirect's query."""
        page = _http_get(authorization_url)
        choice = "deny" if self.consent.deny else "allow"
        match = re.search(rf'id="{choice}" href="([^"]+)"', page.body.decode())
        assert match, f"no {choice} link on the consent page: {page.status}"
        location = _http_get(self.fake.url + html.unescape(match.group(1)))
        target = location.headers.get("location", "")
        return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}

    # --- endpoints ---------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        args = {k: v[0] for k, v in request.query.items()}
        self.requests.append(args)
        if args.get("client_id") != CLIENT_ID or not args.get("redirect_uri"):
            return _page(400, "<p>Error 400: invalid_request</p>")
        ticket = uuid.uuid4().hex
        self._tickets[ticket] = _Grant(
            client_id=args["client_id"],
            redirect_uri=args["redirect_uri"],
            state=args.get("state", ""),
            scopes=args.get("scope", "").split(),
            challenge=args.get("code_challenge", ""),
        )
        allow = html.escape(f"/o/oauth2/approve?{urlencode({'ticket': ticket})}")
        deny = html.escape(
            f"/o/oauth2/approve?{urlencode({'ticket': ticket, 'deny': '1'})}"
        )
        return _page(
            200,
            f"<h1>mailcron wants to access your Google Account</h1>"
            f"<p>{html.escape(self.consent.account)}</p>"
            f'<a id="allow" href="{allow}">Allow</a> '
            f'<a id="deny" href="{deny}">Cancel</a>',
        )

    def _approve(self, request: Request) -> Response:
        grant = self._tickets.pop(request.arg("ticket") or "", None)
        if grant is None:
            return _page(400, "<p>This consent page expired.</p>")
        if request.arg("deny") or self.consent.deny:
            answer = {"error": "access_denied", "state": grant.state}
            return _redirect(grant.redirect_uri, answer)
        scopes = (
            grant.scopes if self.consent.scopes is None else list(self.consent.scopes)
        )
        code = f"4/fake-code-{uuid.uuid4().hex}"
        self._codes[code] = (grant, self.consent.account, scopes)
        answer = {"code": code, "scope": " ".join(scopes), "state": grant.state}
        return _redirect(grant.redirect_uri, answer)

    def exchange(self, request: Request, form: dict[str, str]) -> Response:
        """The token endpoint's authorization_code grant (PKCE S256 checked)."""
        found = self._codes.pop(form.get("code", ""), None)
        if found is None:
            return _oauth_error("invalid_grant", "Malformed auth code.")
        grant, account, scopes = found
        client_id, secret = _client_of(request, form)
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            return _oauth_error("invalid_client", "The OAuth client was not found.")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error("redirect_uri_mismatch", "Bad Request")
        if _s256(form.get("code_verifier", "")) != grant.challenge:
            return _oauth_error("invalid_grant", "Invalid code verifier.")

        access, refresh = self.fake.add_account(account)
        data: dict[str, Any] = {
            "access_token": access,
            "expires_in": 3599,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if self.consent.refresh_token:
            data["refresh_token"] = refresh
        return json_response(200, data)

    def _revoke(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        token = form.get("token") or request.arg("token") or ""
        with self.fake.lock:
            email = self.fake.refresh_tokens.get(token)
            if email is not None:
                self.fake.revoked_refresh_tokens.add(token)
                for access, owner in list(self.fake.access_tokens.items()):
                    if owner == email:
                        del self.fake.access_tokens[access]
            elif self.fake.access_tokens.pop(token, None) is None:
                return _oauth_error("invalid_token", "Token expired or revoked")
        self.revoked.append(token)
        return json_response(200, {})


def _client_of(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        pair = base64.b64decode(header.removeprefix("Basic ")).decode()
        client_id, _, secret = pair.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _oauth_error(error: str, description: str) -> Response:
    return json_response(400, {"error": error, "error_description": description})


def _page(status: int, body: str) -> Response:
    text = f"<!doctype html><html><body>{body}</body></html>"
    return Response(status, text.encode(), "text/html; charset=utf-8")


def _redirect(target: str, query: dict[str, str]) -> Response:
    joiner = "&" if urlsplit(target).query else "?"
    return Response(
        302, b"", "text/html", {"Location": target + joiner + urlencode(query)}
    )


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _http_get(url: str) -> _Answer:
    """One GET without following redirects, as a browser's first hop."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return _Answer(response.status, headers, response.read())
    finally:
        conn.close()
