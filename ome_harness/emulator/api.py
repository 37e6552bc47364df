"""OME's REST API v1 as an ASGI app: same paths, auth, envelope, status codes and messages.

Routing follows OME's controller semantics rather than a web framework's: auth is checked
before routing, unknown paths and methods are 404 `Controller not found` (there is no 405),
actions hang off the last segment after a colon, and messages quote the raw path segment.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from ome_harness import __version__
from ome_harness.emulator import payloads
from ome_harness.emulator.state import EmulatorState, ReceivedEvent, ome_time
from ome_harness.ome.client import EMULATOR_HEADER
from ome_harness.ome.versions import capabilities

CORS = {
    "Vary": "Origin",
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "OPTIONS, HEAD, GET, POST, PUT, PATCH, DELETE",
}
IDENTITY = f"ome-harness {__version__} (OME API emulator, not a real OvenMediaEngine)"


class ApiError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def _json(status: int, body: Any, **headers: str) -> Response:
    # OME writes compact JSON with sorted keys.
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return Response(text, status_code=status, media_type=None,
                    headers={**CORS, "Content-Type": "application/json;charset=UTF-8",
                             "Server": "OvenMediaEngine", EMULATOR_HEADER: IDENTITY, **headers})


# EMULATOR ONLY (a real OME has no such path): what OME would have written to its log, e.g. the
# LL-HLS publisher's refusal of a too-short break, which a real OME tells nobody but its log.
OME_LOG_PATH = "/emulator-only/ome-log"
OME_LOG_LABEL = "# EMULATOR ONLY: lines a real OvenMediaEngine would have written to its log (not an OME API)"


def _ome_log(lines: list[str]) -> Response:
    return Response("\n".join([OME_LOG_LABEL, *lines]) + "\n", media_type="text/plain",
                    headers={EMULATOR_HEADER: IDENTITY})


def _ok(payload: Any = None, status: int = 200) -> Response:
    body: dict[str, Any] = {"message": "OK" if status == 200 else "Created", "statusCode": status}
    if payload is not None:
        body["response"] = payload
    return _json(status, body)


def _error(status: int, text: str) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="OvenMediaEngine"'} if status == 401 else {}
    return _json(status, {"message": f"[HTTP] {text} ({status})", "statusCode": status}, **headers)


class OmeApi:
    """The ASGI application; `state` is shared with whoever drives the emulator."""

    def __init__(self, state: EmulatorState, token: str) -> None:
        self.state, self.token = state, token

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                pass
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self._handle(request)
        await response(scope, receive, send)

    async def _handle(self, request: Request) -> Response:
        faults = self.state.faults
        if faults.response_delay_s:
            await asyncio.sleep(faults.response_delay_s)
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={**CORS, "Content-Type": "text/html",
                                                      "Server": "OvenMediaEngine", EMULATOR_HEADER: IDENTITY})
        if faults.html:
            return Response("<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>",
                            media_type="text/html", headers={EMULATOR_HEADER: IDENTITY})
        if faults.garbage_json:
            return Response(
                '{"message":"OK","response":[',
                status_code=200,
                headers={"Content-Type": "application/json;charset=UTF-8", EMULATOR_HEADER: IDENTITY},
            )
        denial = self._authenticate(request.headers.get("authorization"))
        if denial:
            return _error(401, denial)
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1").split("?")[0]
        if raw_path == OME_LOG_PATH and request.method == "GET":
            return _ome_log(self.state.ome_log)
        body = await request.body()
        try:
            # HEAD is routed as GET; the HTTP server drops the body and keeps Content-Length, as OME does.
            return self._route(request.method, raw_path, body)
        except ApiError as exc:
            return _error(exc.status, exc.text)

    def _authenticate(self, header: str | None) -> str | None:
        if not header:
            return "Authorization header is required to call API"
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "basic":
            return f"Not supported credential type: {scheme}"
        if self.state.faults.accept_any_token:
            return None
        try:
            decoded = base64.b64decode(credential.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "Invalid credential"
        return None if decoded == self.token else "Invalid credential"

    # -- routing ----------------------------------------------------------------------------
    def _route(self, method: str, path: str, body: bytes) -> Response:
        verb = "GET" if method == "HEAD" else method
        parts = path.split("/")[1:]
        if len(parts) < 2 or parts[0] != "v1":
            raise ApiError(404, "Controller not found")
        parts = parts[1:]
        if parts == ["version"] and verb == "GET":
            return _ok({"gitVersion": "(emulator)", "version": str(self.state.version)})
        if parts[0] == "stats" and verb == "GET":
            return self._stats(parts[1:])
        if parts[0] == "vhosts":
            return self._vhosts(verb, parts[1:], body)
        raise ApiError(404, "Controller not found")

    def _vhosts(self, verb: str, parts: list[str], body: bytes) -> Response:
        if not parts:
            if verb != "GET":
                raise ApiError(404, "Controller not found")
            return _ok(self.state.vhost_names())
        raw_vhost, vhost = parts[0], unquote(parts[0])
        if self.state.app_names(vhost) is None:
            raise ApiError(404, f"Could not find the virtual host: [{raw_vhost}]")
        rest = parts[1:]
        if not rest and verb == "GET":
            return _ok({"distribution": "ovenmediaengine.com", "host": {"names": ["*"]}, "name": vhost})
        if rest == ["apps"] and verb == "GET":
            return _ok(self.state.app_names(vhost))
        if len(rest) >= 2 and rest[0] == "apps":
            return self._app(verb, vhost, rest[1], rest[2:], body)
        raise ApiError(404, "Controller not found")

    def _app(self, verb: str, vhost: str, raw_app_action: str, rest: list[str], body: bytes) -> Response:
        raw_app, colon, action = raw_app_action.partition(":")
        app = unquote(raw_app)
        if not self.state.has_app(vhost, app):
            raise ApiError(404, f"Could not find the application: [{vhost}/{raw_app}]")
        if colon and not rest:
            if action == "" and verb == "GET":
                return _ok(self._app_config(app, action=True))
            if action == "pushes" and verb == "GET":
                return _ok([])
            if action == "records" and verb == "GET":
                # Sic: OME's record controller words this message differently.
                raise ApiError(404, f"Could not find application: [{vhost}/{app}]")
            raise ApiError(404, "Controller not found")
        if not rest and verb == "GET":
            return _ok(self._app_config(app))
        if rest == ["outputProfiles"] and verb == "GET":
            return _ok(["bypass_stream"])
        if rest == ["streams"]:
            if verb == "GET":
                hidden = self.state.faults.hide_streams
                return _ok([] if hidden else [s.name for s in self.state.streams(vhost, app)])
            if verb == "POST":
                return self._create_pull_stream(vhost, app, body)
        if len(rest) == 2 and rest[0] == "streams":
            return self._stream(verb, vhost, app, rest[1], body)
        raise ApiError(404, "Controller not found")

    def _app_config(self, app: str, *, action: bool = False) -> dict[str, Any]:
        return payloads.app_config(app, action=action, llhls_segment_s=self.state.llhls_segment_s,
                                   llhls_part_s=self.state.llhls_part_s)

    def _create_pull_stream(self, vhost: str, app: str, body: bytes) -> Response:
        request = _parse_json(body)
        urls = request.get("urls") if isinstance(request, dict) else None
        if (not isinstance(request, dict) or not isinstance(request.get("name"), str) or not request["name"]
                or not isinstance(urls, list) or not urls or not isinstance(urls[0], str)):
            raise ApiError(400, "Stream name or urls is required")
        self.state.add_stream(str(request["name"]), vhost=vhost, app=app, source_type="RtspPull",
                              source_url=str(request["urls"][0]))
        return _ok([{"name": request["name"]}], status=201)

    def _stream(self, verb: str, vhost: str, app: str, raw: str, body: bytes) -> Response:
        raw_name, colon, action = raw.partition(":")
        name = unquote(raw_name)
        missing = f"Could not find the stream: [{vhost}/#{vhost}#{app}/{raw_name}]"
        stream = self.state.stream(vhost, app, name)
        if colon:
            if verb != "POST" or action not in ("sendEvent", "sendEvents"):
                raise ApiError(404, "Controller not found")
            if stream is None:
                raise ApiError(404, missing)
            return self._send_events(vhost, app, name, body, many=action == "sendEvents")
        if verb == "GET":
            if stream is None:
                raise ApiError(404, missing)
            if self.state.faults.wrong_shape:
                return _ok({"name": name, "input": "unavailable"})
            return _ok(payloads.stream_detail(stream, self.state.version))
        if verb == "DELETE":
            if not self.state.delete_stream(vhost, app, name):
                raise ApiError(404, missing)
            return _ok()
        raise ApiError(404, "Controller not found")

    # -- events -----------------------------------------------------------------------------
    def _send_events(self, vhost: str, app: str, stream: str, body: bytes, *, many: bool) -> Response:
        request = _parse_json(body)
        if not many:
            self._accept_event(vhost, app, stream, request)
            return _ok()
        if not isinstance(request, list):
            raise ApiError(400, "Request body must be an array")
        results = []
        for item in request:
            try:
                self._accept_event(vhost, app, stream, item)
                results.append({"message": "OK", "statusCode": 200})
            except ApiError as exc:
                results.append({"message": exc.text, "statusCode": exc.status})
        failures = sum(1 for r in results if r["statusCode"] != 200)
        status = 200 if failures == 0 else 400 if failures == len(results) else 207
        return _json(status, results)

    def _accept_event(self, vhost: str, app: str, stream: str, request: Any) -> None:
        if (not isinstance(request, dict) or not isinstance(request.get("eventFormat"), str)
                or not isinstance(request.get("events"), list)):
            raise ApiError(400, "eventFormat(string) and events(array) are required")
        event_format = request["eventFormat"]
        refused = self.state.faults.refuse_scte35 and event_format.lower() == "scte35"
        if refused or event_format.lower() not in capabilities(self.state.version).event_formats:
            raise ApiError(400, f"eventFormat is not supported: [{event_format}]")
        if event_format.lower() == "scte35":
            _validate_scte35(request["events"])
        self.state.record_event(ReceivedEvent(vhost, app, stream, request))

    # -- stats ------------------------------------------------------------------------------
    def _stats(self, parts: list[str]) -> Response:
        if not parts or parts[0] != "current":
            raise ApiError(404, "Controller not found")
        parts = parts[1:]
        if parts == ["internals"]:
            return _ok(["/v1/stats/current/internals/queues"])
        vhost = app = stream_name = None
        if parts:
            if parts[0] != "vhosts" or len(parts) < 2:
                raise ApiError(404, "Controller not found")
            vhost = unquote(parts[1])
            if self.state.app_names(vhost) is None:
                raise ApiError(404, f"Could not find the virtual host: [{parts[1]}]")
            if len(parts) > 2:
                if parts[2] != "apps" or len(parts) < 4:
                    raise ApiError(404, "Controller not found")
                app = unquote(parts[3])
                if not self.state.has_app(vhost, app):
                    raise ApiError(404, f"Could not find the application: [{vhost}/{parts[3]}]")
                if len(parts) > 4:
                    if parts[4] != "streams" or len(parts) != 6:
                        raise ApiError(404, "Controller not found")
                    stream_name = unquote(parts[5])
        return _ok(self._stats_payload(vhost, app, stream_name, parts))

    def _stats_payload(self, vhost: str | None, app: str | None, stream_name: str | None,
                       parts: list[str]) -> dict[str, Any]:
        stale = self.state.faults.stale_metrics
        if stream_name is not None:
            stream = self.state.stream(vhost or "", app or "", stream_name)
            if stream is None:
                raise ApiError(404, f"Could not find the stream: [{vhost}/#{vhost}#{app}/{parts[5]}]")
            streams, created = [stream], stream.created
        else:
            streams, created = self.state.all_streams(vhost, app), self.state.started
        total, last = 0, created
        for stream in streams:
            count, recv = stream.bytes_in(stale)
            total, last = total + count, max(last, recv)
        throughput = sum(s.bitrate for s in streams) if not stale else 0
        return payloads.stats(created=ome_time(created), bytes_in=total, last_recv=ome_time(last),
                              throughput_in=throughput, llhls=sum(s.llhls_viewers() for s in streams))


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        column = getattr(exc, "colno", 1)
        reason = getattr(exc, "msg", str(exc))
        raise ApiError(400, f"[JSON] * Line {line}, Column {column}\n  {reason}\n") from None


def _validate_scte35(events: list[Any]) -> None:
    # OME (v0.19–v0.20.5) uses only the first event and checks it in this order.
    event = events[0] if events and isinstance(events[0], dict) else {}
    command = event.get("spliceCommand", "spliceInsert")
    if command != "spliceInsert":
        raise ApiError(400, "Now only spliceInsert is supported")
    event_id = event.get("id")
    if not isinstance(event_id, int) or isinstance(event_id, bool) or not 0 <= event_id <= 0xFFFFFFFF:
        raise ApiError(400, "id is required in events")
    if event.get("type") not in ("out", "in"):
        raise ApiError(400, "type must be 'out' or 'in'")
