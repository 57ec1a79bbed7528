"""The HTTP API: what deployment scripts and webhooks call, over the core services.

Served by uvicorn (`uvicorn core.api:app`, the Procfile's `api`). Every route under
/api needs `Authorization: Bearer <API_TOKEN>`; while API_TOKEN is unset the API is
off and answers 503, rather than serving anyone. The OpenAPI schema at
/openapi.json is public: it describes the routes, not any tenant.
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, Field

from core import crons, provisioning, startup, views
from core.errors import (
    Conflict,
    InvalidInput,
    MailcronError,
    UnknownTenant,
    first_problem,
)
from core.settings import Settings, get_settings
from core.viewer import Viewer

log = logging.getLogger(__name__)

ACTOR = "api"
API_OFF = "The HTTP API is off: set API_TOKEN to turn it on."


def _printable(value: str) -> str:
    # Control characters (NUL above all) cannot be stored in PostgreSQL text.
    if not value.isprintable():
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(_printable)]


class ErrorBody(BaseModel):
    detail: str


class GmailConnected(BaseModel):
    user_id: Text = Field(max_length=128)
    email: Text = Field(max_length=254)
    schedule: Text | None = Field(default=None, max_length=200)
    timezone: Text | None = Field(default=None, max_length=64)


class CronAction(BaseModel):
    user_id: Text = Field(max_length=128)
    action: Literal["pause", "resume", "delete"]
    reason: Text | None = Field(default=None, max_length=500, description="for pause")


class CronActionResult(BaseModel):
    user_id: str
    action: str
    cron: views.CronView | None


# 400 is a body that is not JSON at all, which FastAPI answers before validation.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 404, 409, 422, 503)
}


def current_settings() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]
bearer = HTTPBearer(auto_error=False, description="API_TOKEN")


def require_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    if not settings.api_token:
        raise HTTPException(503, API_OFF)
    given = credentials.credentials.encode() if credentials else b""
    # Constant time, so the answer's timing tells nothing about the token.
    if not hmac.compare_digest(given, settings.api_token.encode()):
        raise HTTPException(
            401,
            "A valid bearer token is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(
    prefix="/api", dependencies=[Depends(require_token)], responses=ERRORS
)


@router.post("/webhooks/gmail-connected", response_model=views.CronView)
def gmail_connected(body: GmailConnected, settings: SettingsDep) -> views.CronView:
    """Create or update the tenant and their cron; the same call twice is a no-op.

    A tenant that reads a mail folder is refused (409): this hook speaks for Gmail
    and must not rewrite a folder tenant's address."""
    provisioning.refuse_folder_tenant(user_id=body.user_id, settings=settings)
    return provisioning.provision_cron(
        user_id=body.user_id,
        email=body.email,
        actor=ACTOR,
        settings=settings,
        schedule=body.schedule,
        timezone=body.timezone,
    )


@router.post("/cron/manage", response_model=CronActionResult)
def manage_cron(body: CronAction, settings: SettingsDep) -> CronActionResult:
    """Pause, resume or delete the tenant's cron; deleting keeps the tenant."""
    user_id = views.known_user_id(body.user_id)
    if body.action == "delete":
        crons.delete_cron(user_id=user_id, actor=ACTOR, settings=settings)
        return CronActionResult(user_id=user_id, action=body.action, cron=None)
    if body.action == "pause":
        crons.pause_cron(
            user_id=user_id, actor=ACTOR, reason=body.reason, settings=settings
        )
    else:
        crons.resume_cron(user_id=user_id, actor=ACTOR, settings=settings)
    cron = views.cron_of(user_id=user_id, settings=settings)
    return CronActionResult(user_id=user_id, action=body.action, cron=cron)


@router.get("/cron/status", response_model=views.CronStatusView)
def cron_status(
    user_id: Annotated[str, Query(max_length=128)], settings: SettingsDep
) -> views.CronStatusView:
    """The tenant's cron, its next run and its latest run."""
    return views.cron_status(user_id=user_id, viewer=Viewer.admin(), settings=settings)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    try:
        settings = startup.prepare()
    except SystemExit as stop:
        # The bad setting's line is on stderr already. Raised from here, uvicorn
        # would print a traceback and exit 3; end the process as the CLI does.
        sys.stderr.flush()
        os._exit(stop.code if isinstance(stop.code, int) else 2)
    if not settings.api_token:
        log.error("API_TOKEN is not set; every API request is refused with 503")
    yield


app = FastAPI(
    title="mailcron API",
    summary="Create, manage and inspect tenants' crons.",
    version="1",
    lifespan=lifespan,
)
app.include_router(router)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


@app.exception_handler(MailcronError)
def _service_error(_request: Request, err: MailcronError) -> JSONResponse:
    if isinstance(err, UnknownTenant):
        return _error(404, str(err))
    if isinstance(err, InvalidInput):
        return _error(422, str(err))
    if isinstance(err, Conflict):
        return _error(409, str(err))
    log.error("API request failed: %s", err)
    return _error(500, str(err))


@app.exception_handler(RequestValidationError)
def _bad_request(_request: Request, err: RequestValidationError) -> JSONResponse:
    """One sentence naming the first problem, like the services' own messages."""
    loc, kind, problem = first_problem(err.errors())
    if kind == "json_invalid":
        return _error(422, "The request body is not valid JSON.")
    where = ".".join(str(part) for part in loc if part != "body")
    if not where:
        return _error(422, "The request body must be a JSON object.")
    return _error(422, f"{where}: {problem}.")
