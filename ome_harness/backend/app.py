"""The reference backend's HTTP API (FastAPI): routes, bearer auth and JSON errors with stable codes.

FastAPI is used because it derives the OpenAPI document and the 422 body validation from the
same pydantic models the workflows use, so the published contract cannot drift from the code.
"""

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ome_harness import __version__
from ome_harness.backend import contract
from ome_harness.backend.database import open_database
from ome_harness.backend.errors import BackendError
from ome_harness.backend.settings import ACCEPT_ANY_TOKEN, BackendSettings
from ome_harness.backend.workflows import StreamWorkflows
from ome_harness.redaction import fingerprint

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": contract.ErrorBody, "description": text} for code, text in {
        401: "Missing or wrong bearer token", 404: "Unknown channel or marker",
        422: "Invalid request body or parameters",
        503: "OME unreachable (degraded: true) or database unavailable"}.items()}

ChannelId = Annotated[str, Path(alias="channelId", description="Channel id")]


def _json_error(error: BackendError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def create_app(settings: BackendSettings) -> FastAPI:
    """Open the database (creating the schema) and build the ASGI app."""
    engine, sessions = open_database(settings.db_url)
    flows = StreamWorkflows(settings, sessions)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="ome-harness reference backend", version=__version__, lifespan=lifespan,
                  description="The stream workflows ome-harness verifies: start, stop, SCTE-35, listing and "
                              "details, each written to an audit log; degraded answers when OME is down.")
    app.state.engine = engine
    bearer = HTTPBearer(auto_error=False, description="The backend's token (`backend.token`)")
    expected = settings.token.encode()
    actor_name = "token " + fingerprint(settings.token)

    def actor(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
        if ACCEPT_ANY_TOKEN in settings.faults:
            return actor_name
        given = credentials.credentials.encode() if credentials else b""
        if not credentials or not hmac.compare_digest(given, expected):
            raise BackendError(401, "unauthorized", "a valid bearer token is required "
                               "(Authorization: Bearer <backend token>)")
        return actor_name

    Actor = Annotated[str, Depends(actor)]
    api = APIRouter(prefix="/api", responses=_ERRORS)

    @api.post("/channels", status_code=201, response_model=contract.ChannelOut, tags=["admin"],
              responses={409: {"model": contract.ErrorBody, "description": "Channel id taken"}})
    def create_channel(body: contract.ChannelCreate, who: Actor) -> contract.ChannelOut:
        """Create a channel (inactive) with a fresh stream key."""
        return flows.create_channel(body, who)

    @api.get("/channels", response_model=list[contract.ChannelOut], tags=["admin"])
    def list_channels(who: Actor) -> list[contract.ChannelOut]:
        return flows.channels()

    @api.post("/markers", status_code=201, response_model=contract.MarkerOut, tags=["admin"],
              responses={409: {"model": contract.ErrorBody, "description": "Marker id taken"}})
    def create_marker(body: contract.MarkerCreate, who: Actor) -> contract.MarkerOut:
        """Create a SCTE-35 marker: the cue template insertions send."""
        return flows.create_marker(body, who)

    @api.get("/markers", response_model=list[contract.MarkerOut], tags=["admin"])
    def list_markers(who: Actor) -> list[contract.MarkerOut]:
        return flows.markers()

    @api.get("/audit", response_model=list[contract.AuditEntryOut], tags=["admin"])
    def audit_log(who: Actor, channel_id: Annotated[str | None, Query(max_length=200)] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
        """The newest audit entries, optionally for one channel."""
        return flows.audit(channel_id, limit)

    @api.post("/streams/{channelId}/start", response_model=contract.StartResult, tags=["streams"])
    def start_stream(channel_id: ChannelId, who: Actor) -> contract.StartResult:
        """Activate the channel and return its stream key (works, flagged degraded, when OME is down)."""
        return flows.start(channel_id, who)

    @api.post("/streams/{channelId}/stop", response_model=contract.StopResult, tags=["streams"])
    def stop_stream(channel_id: ChannelId, who: Actor) -> contract.StopResult:
        """Delete the stream in OME if it exists and mark the channel inactive (degraded when OME is unusable)."""
        return flows.stop(channel_id, who)

    @api.post("/streams/{channelId}/scte35", response_model=contract.Scte35Result, tags=["streams"],
              responses={409: {"model": contract.ErrorBody, "description": "Channel inactive or not live in OME"},
                         422: {"model": contract.ErrorBody, "description": "Invalid body, or break_too_short: OME "
                               "would answer 200 and drop the break (OME not called)"},
                         502: {"model": contract.ErrorBody, "description": "OME refused the cue (e.g. v0.21.0+)"}})
    def insert_scte35(channel_id: ChannelId, body: contract.Scte35Request, who: Actor) -> contract.Scte35Result:
        """Insert the marker's SCTE-35 cue through OME's API (:sendEvent)."""
        return flows.insert_scte35(channel_id, body, who)

    @api.get("/streams", response_model=contract.StreamList, tags=["streams"],
             responses={502: {"model": contract.ErrorBody, "description": "OME answered with an error"}})
    def list_streams(who: Actor) -> contract.StreamList:
        """The streams OME lists in the backend's application, with the channel owning each."""
        return flows.list_streams(who)

    @api.get("/streams/{channelId}", response_model=contract.StreamDetail, tags=["streams"])
    def stream_detail(channel_id: ChannelId, who: Actor) -> contract.StreamDetail:
        """The channel's database record with OME's stream detail and metrics."""
        return flows.stream_detail(channel_id, who)

    app.include_router(api)
    _install_error_handlers(app)
    return app


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BackendError)
    async def backend_error(_request: Request, exc: BackendError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _json_error(exc, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
                    for e in exc.errors()]
        first = problems[0] if problems else {"where": "request", "problem": "invalid"}
        return _json_error(BackendError(422, "invalid_request", f"{first['where']}: {first['problem']}",
                                        details=problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's "error parsing the body" (e.g. not UTF-8): a bad body is a 422 like any other.
            return _json_error(BackendError(422, "invalid_request", f"body: {exc.detail}"))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first route matching the path; GET and POST of one path are two routes.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _json_error(BackendError(exc.status_code, code, str(exc.detail)), headers or None)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(_request: Request, exc: SQLAlchemyError) -> JSONResponse:
        return _json_error(BackendError(503, "database_unavailable",
                                        f"the backend's database failed: {type(exc).__name__}"))
