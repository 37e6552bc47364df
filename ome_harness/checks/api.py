"""Checks 2–6: API connectivity and version, authentication, vhosts/apps, streams, metrics."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ome_harness.checks.context import CheckContext, exchange_evidence
from ome_harness.checks.registry import check
from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import (
    ConnectionReset,
    HtmlAnswer,
    NotHttpAnswer,
    NotJsonAnswer,
    OmeApiError,
    OmeBadResponse,
    OmeError,
    OmeNotFound,
    OmeTimeout,
    OmeUnauthorized,
    OmeUnreachable,
    PlainHttpAnswer,
    Redirected,
    TlsHandshakeFailed,
    TlsPortAnswer,
)
from ome_harness.ome.models import Stats
from ome_harness.ome.origin_map import EDGE_NOT_RECORDED, EDGE_RECORDED_VERSIONS, edge_recorded, origin_map
from ome_harness.polling import Deadline, Ready, WaitTimedOut, poll_until
from ome_harness.results import CheckResult, Status

T = TypeVar("T")

# Counters of a live stream move many times a second; one second without growth means they are stuck.
FRESHNESS_WINDOW_S = 1.0
# A live stream's second reading is taken once the counters moved, but not before this much time
# passed: the bitrate the report quotes comes from the growth over the time between the readings.
FRESHNESS_MIN_SAMPLE_S = 0.25


def describe_failure(exc: OmeError) -> str:
    """A short phrase for an OME error, as the test-results list shows it."""
    if isinstance(exc, OmeUnreachable):
        return "Connection refused" if exc.errname == "ECONNREFUSED" else f"Unreachable ({exc.reason})"
    if isinstance(exc, OmeTimeout):
        return f"No answer within {exc.seconds:g}s"
    if isinstance(exc, TlsHandshakeFailed):
        return f"TLS handshake failed ({exc.detail.removeprefix('TLS handshake failed: ')})"
    if isinstance(exc, OmeBadResponse):
        phrases: dict[type[OmeBadResponse], str] = {
            HtmlAnswer: "API answered with HTML — is this OME?",
            NotJsonAnswer: "API answered with something that is not JSON",
            NotHttpAnswer: "Something that does not speak HTTP answers on this port",
            ConnectionReset: "The connection was reset before any answer",
            PlainHttpAnswer: "This port speaks plain HTTP (TLS handshake failed): use http://",
            TlsPortAnswer: "This port speaks TLS (HTTPS): use https://",
        }
        if isinstance(exc, Redirected):
            return "API redirects elsewhere: " + exc.detail.split(";")[0].removeprefix("redirects to ")
        return next((text for kind, text in phrases.items() if isinstance(exc, kind)),
                    "Unexpected answer shape")
    if isinstance(exc, OmeNotFound):
        return f"Not found ({exc.message}) — the API URL must be the server root, e.g. http://host:8081"
    if isinstance(exc, OmeUnauthorized):
        return f"Token rejected ({exc.message})"
    if isinstance(exc, OmeApiError) and exc.status >= 500:
        # OME's own envelope: OME answers, and fails. Its message is the lead.
        return f"OME answers but fails: HTTP {exc.status}, '{exc.message}'"
    return str(exc)


def _result(
    id: str, title: str, status: Status, summary: str, client: OmeClient, **extra: object
) -> CheckResult:
    return CheckResult(id=id, title=title, status=status, summary=summary, evidence=exchange_evidence(client),
                       **extra)  # type: ignore[arg-type]


def _upstream_problem(ctx: CheckContext, id: str, title: str) -> CheckResult | None:
    """SKIP a check whose prerequisite failed, saying which one and why."""
    api = ctx.done.get("api")
    if api is None or api.status is Status.ERROR:
        why = api.summary if api else "the API check did not run"
        return CheckResult(
            id=id, title=title, status=Status.SKIP, summary=f"not run: the API check failed ({why})"
        )
    auth = ctx.done.get("auth")
    if id != "auth" and auth is not None and auth.status is Status.ERROR:
        return CheckResult(id=id, title=title, status=Status.SKIP,
                           summary="not run: authentication failed (see Authentication)")
    return None


def _call(client: OmeClient, fn: Callable[[OmeClient], T]) -> tuple[T | None, OmeError | None]:
    try:
        return fn(client), None
    except OmeError as exc:
        return None, exc


@check("api", "OME API Connectivity", order=20,
       expected="GET /v1/version answers with OME's JSON envelope")
def diagnose_api(ctx: CheckContext) -> CheckResult:
    title = "OME API Connectivity"
    with ctx.client() as client:
        version, error = _call(client, OmeClient.version)
        identity = client.emulator_identity
        facts: dict[str, object] = {"emulator": identity}
        if version is not None:
            facts.update(version=version.version, server=client.exchanges[-1].server)
            return _result(
                "api",
                title,
                Status.OK,
                f"OvenMediaEngine v{version.version} answers at "
                f"{ctx.target.api_url} ({client.exchanges[-1].latency_ms:.0f} ms)",
                client,
                facts=facts,
            )
        assert error is not None
        facts["error"] = str(error)
        facts["failure"] = type(error).__name__  # a label for the JSON report; findings read `failure`
        if isinstance(error, OmeBadResponse):
            facts["kind"] = error.kind
        if isinstance(error, OmeApiError):
            facts.update(status=error.status, message=error.message)
        if isinstance(error, OmeUnauthorized):
            # The API is there and talks OME's language; the token problem is the auth check's to report.
            return _result(
                "api",
                title,
                Status.OK,
                f"API answers at {ctx.target.api_url} (version not readable: token refused)",
                client,
                facts=facts,
            )
        remediation = {
            OmeUnreachable: "Start OvenMediaEngine and enable its API (see Issues Found).",
            OmeTimeout: "The API accepted the connection but did not answer: check OME's load and logs, "
            "or raise api.read_timeout if it is merely slow.",
            OmeBadResponse: "Something other than OME's API answers on this port: check the URL, port and "
                            "any proxy.",
        }
        hint = next((text for kind, text in remediation.items() if isinstance(error, kind)),
                    "Check the API URL (it must be the server root; the harness adds /v1).")
        if isinstance(error, PlainHttpAnswer):
            plain = ctx.target.api_url.replace("https://", "http://", 1)
            hint = f"Use {plain}, or enable OME's TLS API port."
        elif isinstance(error, TlsPortAnswer):
            hint = f"Use {ctx.target.api_url.replace('http://', 'https://', 1)} (this is a TLS port)."
        elif isinstance(error, OmeApiError) and error.status >= 500:
            hint = "OME itself failed this request: read OME's log around this time for the same message."
        return _result("api", title, Status.ERROR, describe_failure(error), client, facts=facts,
                       remediation=hint, error=str(error), failure=error)


@check("auth", "Authentication", needs=("api",), order=30,
       expected="the configured token is accepted and a wrong one is refused with 401")
def diagnose_auth(ctx: CheckContext) -> CheckResult:
    title = "Authentication"
    if skipped := _upstream_problem(ctx, "auth", title):
        return skipped.model_copy(
            update={"summary": "unverified: " + skipped.summary.removeprefix("not run: ")}
        )
    if not ctx.target.token:
        return CheckResult(
            id="auth",
            title=title,
            status=Status.ERROR,
            summary="no API token configured",
            remediation="Set api.token (or OMH_API__TOKEN) to Server.xml's Managers/API/AccessToken.",
        )
    with ctx.client() as client, ctx.client(token="wrong-" + secrets.token_hex(8)) as wrong:
        (_, configured_error), (_, wrong_error) = ctx.concurrently(lambda: _call(client, OmeClient.vhosts),
                                                               lambda: _call(wrong, OmeClient.vhosts))
        client.exchanges.extend(wrong.exchanges)
        if isinstance(configured_error, OmeUnauthorized):
            return _result(
                "auth",
                title,
                Status.ERROR,
                f"token rejected: {configured_error.message}",
                client,
                remediation="Use the exact Managers/API/AccessToken from OME's Server.xml. OME expects "
                "'Authorization: Basic base64(token)' — the token alone, no 'user:' prefix.",
                facts={"rejected": True},
            )
        if configured_error is not None:
            return _result(
                "auth", title, Status.ERROR, f"could not verify: {describe_failure(configured_error)}", client
            )
        if wrong_error is None:
            return _result(
                "auth",
                title,
                Status.WARN,
                "the API accepts any token: a wrong one was not refused",
                client,
                facts={"accepts_any": True},
                remediation="Check that OME's AccessToken is set and that no proxy answers for OME.",
            )
        if isinstance(wrong_error, OmeUnauthorized):
            return _result(
                "auth",
                title,
                Status.OK,
                f"configured token accepted; a wrong token is refused ({wrong_error.message})",
                client,
            )
        return _result(
            "auth",
            title,
            Status.WARN,
            f"configured token accepted; a wrong token got: {describe_failure(wrong_error)}",
            client,
        )


@check("vhosts", "Virtual hosts and applications", needs=("api", "auth"), order=40,
       expected="the configured virtual host and application are listed")
def diagnose_vhosts(ctx: CheckContext) -> CheckResult:
    title = "Virtual hosts and applications"
    if skipped := _upstream_problem(ctx, "vhosts", title):
        return skipped
    vhost, app = ctx.target.vhost, ctx.target.app
    with ctx.client() as client:
        # Both at once: the apps answer is only read once the vhost is known to exist.
        (vhosts, error), (apps, apps_error) = ctx.concurrently(lambda: _call(client, OmeClient.vhosts),
                                                           lambda: _call(client, lambda c: c.apps(vhost)))
        if error is not None:
            return _result("vhosts", title, Status.ERROR, describe_failure(error), client)
        if vhost not in (vhosts or []):
            return _result(
                "vhosts",
                title,
                Status.ERROR,
                f"vhost '{vhost}' not found; OME has {vhosts}",
                client,
                remediation="Set api.vhost to one of OME's virtual hosts.",
                facts={"vhosts": vhosts},
            )
        error = apps_error
        if error is not None:
            return _result("vhosts", title, Status.ERROR, describe_failure(error), client)
        if app not in (apps or []):
            if edge := _edge_before_a_viewer(ctx, client, vhost, app):
                return _result("vhosts", title, edge.status, edge.summary, client,
                               facts={"vhosts": vhosts, "apps": apps, "edge": edge.facts})
            return _result(
                "vhosts",
                title,
                Status.ERROR,
                f"app '{app}' not found in vhost '{vhost}'; OME has {apps}",
                client,
                remediation="Set api.app to one of the vhost's applications.",
                facts={"apps": apps},
            )
        return _result(
            "vhosts",
            title,
            Status.OK,
            f"vhost '{vhost}' with app '{app}' ({len(vhosts or [])} vhost(s), {len(apps or [])} app(s))",
            client,
            facts={"vhosts": vhosts, "apps": apps},
        )


@dataclass(frozen=True)
class _EdgeVerdict:
    status: Status
    summary: str
    facts: dict[str, object]


def _edge_before_a_viewer(ctx: CheckContext, client: OmeClient, vhost: str, app: str) -> _EdgeVerdict | None:
    """An edge whose app does not exist yet: what it will pull from where, or None for any other node.

    A real v0.20.0 edge lists no application until a viewer asks (its app is the `*` template, invisible
    in the API: edge_apps_before_any_viewer.http) and names its origin in the vhost's origin map
    (edge_vhost.http). Its missing app is the normal state there, not a fault."""
    detail, error = _call(client, lambda c: c.vhost(vhost))
    mapped = origin_map(detail) if detail is not None and error is None else None
    if mapped is None or not mapped.pulls_over_ovt:
        return None
    version = (ctx.done.get("api").facts.get("version") if ctx.done.get("api") else None) or "unknown"
    facts: dict[str, object] = {"origins": mapped.described(), "urls": mapped.urls,
                                "recorded": edge_recorded(version), "properties": mapped.properties}
    where = f"edge of {mapped.described()}"
    if not edge_recorded(version):
        return _EdgeVerdict(Status.WARN, f"{where}: app '{app}' is not listed; {EDGE_NOT_RECORDED} "
                            f"(v{version}; recorded: v{', v'.join(EDGE_RECORDED_VERSIONS)}), so whether it "
                            "appears on a viewer's first request is not known", facts)
    return _EdgeVerdict(Status.OK, f"{where}: app '{app}' is created on a viewer's first request "
                        f"(none yet); the edge then pulls {app}/STREAM over OVT", facts)


def _not_created_yet(edge: dict[str, object], what: str) -> tuple[Status, str]:
    status = Status.OK if edge.get("recorded") else Status.WARN
    note = "" if edge.get("recorded") else f" ({EDGE_NOT_RECORDED})"
    return status, f"edge: app created on first viewer — {what}{note}"


# Not after the vhosts check: on an edge the streams check reads the origin map itself (one request, only
# when the app is missing), so no node waits an extra round trip for it.
@check("streams", "Streams Endpoint", needs=("api", "auth"), order=50,
       expected="the application's stream list (and a listed stream's details) can be read")
def diagnose_streams(ctx: CheckContext) -> CheckResult:
    title = "Streams Endpoint"
    if skipped := _upstream_problem(ctx, "streams", title):
        return skipped
    vhost, app = ctx.target.vhost, ctx.target.app
    with ctx.client() as client:
        names, error = _call(client, lambda c: c.streams(vhost, app))
        edge = _edge_before_a_viewer(ctx, client, vhost, app) if isinstance(error, OmeNotFound) else None
        if edge is not None:
            status, summary = _not_created_yet(edge.facts, f"no stream on this edge until a viewer asks for "
                                                           f"one (OME: {error.message})")
            return _result("streams", title, status, summary, client,
                           facts={"streams": [], "edge": edge.facts})
        if error is not None:
            return _result("streams", title, Status.ERROR, describe_failure(error), client,
                           remediation="Check api.vhost/api.app." if isinstance(error, OmeNotFound) else None)
        if not names:
            return _result("streams", title, Status.OK, f"no live streams in {vhost}/{app}", client,
                           facts={"streams": []})
        # Reading one stream's details proves the payload has the shape clients rely on.
        detail, error = _call(client, lambda c: c.stream(vhost, app, names[0]))
        if error is not None and not isinstance(error, OmeNotFound):
            return _result("streams", title, Status.ERROR, f"stream '{names[0]}': {describe_failure(error)}: "
                           f"{error}", client, facts={"streams": names})
        tracks = ", ".join(
            f"{t.type}"
            + (f" {t.video.codec} {t.video.width}x{t.video.height}" if t.video else "")
            + (f" {t.audio.codec} {t.audio.samplerate} Hz" if t.audio else "")
            for t in (detail.input.tracks if detail else [])
            if t.type != "Data"
        )
        return _result("streams", title, Status.OK, f"{len(names)} live stream(s): {', '.join(names)}"
                       + (f" ({names[0]}: {tracks})" if tracks else ""), client, facts={"streams": names})


def _read_again_until_moved(
    client: OmeClient, first: Stats | None, read: Callable[[OmeClient], Stats]
) -> tuple[Stats | None, OmeError | None, float]:
    """A second reading of a live stream's stats: as soon as they moved (and a short sample passed), else
    at the end of the freshness window. Returns it, the error that ended reading, and the seconds between
    the readings. A wait that ends on what it waits for: a fresh stream costs ~0.25 s, not the window."""
    window = Deadline(FRESHNESS_WINDOW_S)
    latest: list[tuple[Stats | None, OmeError | None]] = [(None, None)]

    def moved() -> Ready[None] | str:
        latest[0] = _call(client, read)
        second, error = latest[0]
        if first is None or error is not None:
            return Ready(None)
        assert second is not None
        if window.elapsed() >= FRESHNESS_MIN_SAMPLE_S and (
            second.total_bytes_in > first.total_bytes_in or second.last_recv_time > first.last_recv_time
        ):
            return Ready(None)
        return f"totalBytesIn {second.total_bytes_in}"

    with contextlib.suppress(WaitTimedOut):
        poll_until(moved, deadline=window, what="the stream's counters to move", interval_s=0.1)
    return (*latest[0], max(window.elapsed(), FRESHNESS_MIN_SAMPLE_S))


@check("metrics", "Metrics Endpoint", needs=("api", "auth", "streams"), order=60,
       expected="the server, vhost and app stats answer, and a live stream's counters move")
def diagnose_metrics(ctx: CheckContext) -> CheckResult:
    title = "Metrics Endpoint"
    if skipped := _upstream_problem(ctx, "metrics", title):
        return skipped
    vhost, app = ctx.target.vhost, ctx.target.app
    streams = ctx.done.get("streams")
    with ctx.client() as client:
        levels = ctx.concurrently(lambda: _call(client, lambda c: c.stats()),
                              lambda: _call(client, lambda c: c.stats(vhost)),
                              lambda: _call(client, lambda c: c.stats(vhost, app)))
        for index, (_, error) in enumerate(levels):
            edge = streams.facts.get("edge") if streams is not None else None
            if index == 2 and isinstance(error, OmeNotFound) and isinstance(edge, dict):
                # The app's stats exist once a viewer made the edge create it (edge_stats_stream_after_pull).
                status, summary = _not_created_yet(edge, "server and vhost stats answer; the app's stats "
                                                        "exist once a viewer made the edge pull a stream")
                return _result("metrics", title, status, summary, client)
            if error is not None:
                return _result("metrics", title, Status.ERROR, describe_failure(error) + f": {error}", client)
        stats = levels[-1][0]
        assert stats is not None
        live = (ctx.done.get("streams").facts.get("streams") if ctx.done.get("streams") else None) or []
        if not live:
            return _result(
                "metrics",
                title,
                Status.OK,
                f"server, vhost and app stats answer "
                f"({stats.total_bytes_in} bytes in); no live stream, so freshness is not checked",
                client,
            )
        stream = live[0]
        read = lambda c: c.stats(vhost, app, stream)  # noqa: E731 - read twice, the same way
        first, error = _call(client, read)
        second, error2, sampled_s = _read_again_until_moved(client, first, read)
        if first is None or second is None:
            failure = error or error2
            if isinstance(failure, OmeNotFound):
                return _result(
                    "metrics",
                    title,
                    Status.OK,
                    f"stats answer; stream '{stream}' ended while sampled",
                    client,
                )
            return _result("metrics", title, Status.ERROR, f"stream '{stream}': {failure}", client)
        grew = second.total_bytes_in - first.total_bytes_in
        facts = {"stream": stream, "bytes_in": [first.total_bytes_in, second.total_bytes_in],
                 "bitrate_bps": round(grew * 8 / sampled_s), "sampled_s": round(sampled_s, 3)}
        if grew <= 0 and second.last_recv_time <= first.last_recv_time:
            facts["stale"] = True
            return _result("metrics", title, Status.ERROR,
                           f"stale: stream '{stream}' totalBytesIn stayed at {first.total_bytes_in} for "
                           f"{FRESHNESS_WINDOW_S:g}s while it is listed as live", client, facts=facts,
                           remediation="OME's stats stopped moving: check the publisher and OME's logs.")
        return _result("metrics", title, Status.OK, f"stats answer and move: stream '{stream}' received "
                       f"{grew} bytes in {sampled_s:.2f}s (~{facts['bitrate_bps'] // 1000} kbit/s)",
                       client, facts=facts)

