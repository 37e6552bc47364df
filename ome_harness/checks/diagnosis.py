"""`diagnose`: run the registered checks against a target and build the connection report."""

from __future__ import annotations

from pathlib import Path

from ome_harness.checks.context import CheckContext
from ome_harness.checks.findings import HEALTHY_TITLE, derive, for_removed_container
from ome_harness.checks.host_probe import RuntimeHints, probe_runtime
from ome_harness.checks.network import api_host_port, is_loopback
from ome_harness.checks.registry import all_checks
from ome_harness.checks.runner import run_checks
from ome_harness.redaction import describe_secret
from ome_harness.results import CheckResult, NextStep, Report, Status, TargetInfo
from ome_harness.target import OmeTarget

EMULATOR_NOTE = (
    "OME API emulator — not a real OvenMediaEngine. These results describe the harness's test double."
)


def diagnose(target: OmeTarget, *, server_xml: Path | None = None, env_file: Path | None = None,
             env_token_key: str = "OME_API_TOKEN", domain: str | None = None,
             probe_host: bool = True, playback: str | None = None, browser: bool = False) -> Report:
    """Read-only: looks at the target, changes nothing (`playback`: also watch that stream over LL-HLS;
    `browser`: and in a viewer's browser)."""
    checks = all_checks()
    # Every check's requests go over the target's one keep-alive pool (kept for the target's next use).
    # On loopback there is no network wait to overlap: one thread runs the checks in turn (measured
    # faster on 2 cores, bench/README.md); anywhere else independent checks and requests overlap.
    parallel = not is_loopback(api_host_port(target.api_url)[0])
    ctx = CheckContext(target=target, server_xml=server_xml, env_file=env_file, env_token_key=env_token_key,
                       connection=target.connection(), parallel=parallel)
    applicable = [c for c in checks if c.applies(ctx)]
    results = run_checks(applicable, ctx, workers=8 if parallel else 1)
    if playback is not None:
        results.append(playback_check(target, playback))
        if browser:
            results.append(browser_check(target, playback))
    by_id = {r.id: r for r in results}
    hints = _runtime_hints(target, by_id) if probe_host else RuntimeHints()
    issues, steps = derive(results, hints, target.api_url)
    api = by_id.get("api")
    emulator = (api.facts.get("emulator") if api else None) or (
        "ome-harness emulator" if target.kind == "emulator" else None)
    version = api.facts.get("version") if api else None
    notes = [EMULATOR_NOTE] if emulator else []
    notes += [c.not_run_note for c in checks if not c.applies(ctx) and c.not_run_note]
    notes.append("Read-only: the diagnosis changed nothing on the target.")
    if not issues and not any(r.status is Status.ERROR for r in results):
        steps.append(
            NextStep(
                title=HEALTHY_TITLE,
                details=["The API is healthy. Run the scenarios (read-only unless you allow mutating):"],
                commands=[
                    "ome-harness run --target emulator"
                    if target.kind == "emulator"
                    else f"ome-harness run --target {target.kind} --api-url {target.api_url}"
                ],
            )
        )
    if target.kind == "container":
        steps = for_removed_container(steps, api_url=target.api_url, image=target.image,
                                      name=target.extra.get("container_name"),
                                      log_path=target.extra.get("log_path"))
    return Report(
        kind="connection",
        title="OvenMediaEngine Connection Test Report",
        domain=domain or _domain(target),
        target=TargetInfo(
            kind=target.kind,
            api_url=target.api_url,
            key=describe_secret(target.token),
            vhost=target.vhost,
            app=target.app,
            version=str(version) if version else None,
            emulator=emulator,
            image=target.image,
            image_digest=target.image_digest,
        ),
        headline=_headline(api),
        error=_error(api),
        results=results,
        issues=issues,
        next_steps=steps,
        notes=notes,
    )


def playback_check(target: OmeTarget, stream: str) -> CheckResult:
    """The read-only LL-HLS playback section; an unknown LL-HLS address is said, never guessed."""
    from ome_harness.playback.check import app_segment_s, check_playback
    from ome_harness.stream_ref import parse_stream_ref
    from ome_harness.target.media_addresses import MediaAddressUnknown

    ref = parse_stream_ref(stream, "--playback")  # checked with the other flags: it parses
    try:
        url = target.llhls_url(ref.name, app=ref.app)
    except MediaAddressUnknown as exc:
        return CheckResult(id="playback", title="Playback (LL-HLS viewer)", status=Status.ERROR,
                           summary=f"{stream}: not watched: {exc}")
    return check_playback(url, stream, emulated=target.kind == "emulator",
                          segment_s=app_segment_s(target, ref.app))


def browser_check(target: OmeTarget, stream: str) -> CheckResult:
    """The read-only section of a viewer's browser: LL-HLS and, where the target has it, WebRTC both ways."""
    from ome_harness.playback.browser_check import TITLE, check_in_browser
    from ome_harness.stream_ref import parse_stream_ref
    from ome_harness.target.media_addresses import MediaAddressUnknown

    ref = parse_stream_ref(stream, "--playback")
    try:
        url = target.llhls_url(ref.name, app=ref.app)
    except MediaAddressUnknown as exc:
        return CheckResult(id="browser", title=TITLE, status=Status.ERROR,
                           summary=f"{stream}: not played: {exc}")
    try:
        signalling: str | None = target.webrtc_url(ref.name, app=ref.app)
    except MediaAddressUnknown:
        signalling = None
    return check_in_browser(url, signalling, stream, emulated=target.emulated())


def _runtime_hints(target: OmeTarget, results: dict[str, CheckResult]) -> RuntimeHints:
    # Only worth a look (and only meaningful) when a local OME seems down.
    down = any(results.get(i) is not None and results[i].status is Status.ERROR for i in ("tcp", "api"))
    host, _ = api_host_port(target.api_url)
    return probe_runtime() if down and target.kind == "url" and is_loopback(host) else RuntimeHints()


def _headline(api: CheckResult | None) -> str:
    if api is None or api.status is Status.ERROR:
        return "OME API is not accessible"
    version = api.facts.get("version")
    return f"OME API is accessible (OvenMediaEngine v{version})" if version else "OME API answers"


def _error(api: CheckResult | None) -> str | None:
    if api is None or api.status is not Status.ERROR:
        return None
    return str(api.facts.get("error") or api.summary)


def _domain(target: OmeTarget) -> str:
    host, _ = api_host_port(target.api_url)
    return host
