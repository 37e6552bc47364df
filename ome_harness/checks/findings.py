"""From failed checks to 'Issues Found' and 'Next Steps' with commands that fit how OME is run."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ome_harness.addresses import url_host
from ome_harness.checks.host_probe import OmeContainer, RuntimeHints
from ome_harness.checks.network import api_host_port, is_loopback, shown
from ome_harness.ome.errors import (
    ConnectionReset,
    HtmlAnswer,
    NotHttpAnswer,
    OmeApiError,
    OmeBadResponse,
    OmeNotFound,
    OmeTimeout,
    OmeUnreachable,
    PlainHttpAnswer,
    Redirected,
    TlsHandshakeFailed,
    TlsPortAnswer,
)
from ome_harness.results import CheckResult, Finding, NextStep, Status

HEALTHY_TITLE = "Exercise stream workflows"
OME_API_PORT = "8081/tcp"  # the API port of OME's example configs, inside a container
# OME's default media ports (ome-api.md): a process listening only on these has no API among them.
MEDIA_PORTS = frozenset({1935, 3333, 3334, 3478, 9000, 9999, 10000})

Rule = Callable[[Mapping[str, CheckResult], RuntimeHints, str], tuple[Finding, list[NextStep]] | None]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def _failed(results: Mapping[str, CheckResult], id: str) -> CheckResult | None:
    result = results.get(id)
    return result if result is not None and result.status is Status.ERROR else None


def _enable_api_step(container: OmeContainer, port: int) -> NextStep:
    return NextStep(
        title=f"Enable the API in the running container '{container.name}'",
        details=[f"The container runs OME (recognised by {container.recognised_by or 'its image'}) but "
                 "nothing answers on the API port: the official image's default config "
                 "(origin_conf/Server.xml) has the API bind commented out, and 8081 is not in the image's "
                 "EXPOSE list.",
                 "Mount a Server.xml with <Bind><Managers><API><Port>8081</Port></API></Managers></Bind> and "
                 "<Managers><API><AccessToken>…</AccessToken></API></Managers>, and publish the port.",
                 "Or let the harness run a correctly configured one: `ome-harness up`."],
        commands=[f"docker inspect --format '{{{{json .NetworkSettings.Ports}}}}' {container.name}",
                  f"docker exec {container.name} grep -n -A3 '<API>' "
                  "/opt/ovenmediaengine/bin/origin_conf/Server.xml",
                  f"docker run -d --name ome -p {port}:8081 -p 1935:1935 -p 3333:3333 -p 9999:9999/udp "
                  "-v $PWD/Server.xml:/opt/ovenmediaengine/bin/origin_conf/Server.xml "
                  "ovenmedialabs/ovenmediaengine:v0.21.0"])


def _process_steps(hints: RuntimeHints, port: int) -> list[NextStep]:
    steps = []
    # An OME in another network namespace is most likely a container Docker already showed.
    shown_elsewhere = bool(hints.containers)
    for process in (p for p in hints.processes if p.own_network or not shown_elsewhere):
        where = "" if process.own_network else " inside its container (another network namespace)"
        candidates = [p for p in process.ports if p not in MEDIA_PORTS][:3] if process.own_network else []
        steps.append(NextStep(
            title=f"Find the API port of the running OvenMediaEngine (pid {process.pid})",
            details=[f"`{process.command}` listens{where} on TCP "
                     f"{', '.join(map(str, process.ports)) or 'no port'} — not on {port}.",
                     "Its API is disabled (Bind/Managers/API commented out, the official default) or bound "
                     "to another port: read Server.xml in the config folder named after -c."],
            commands=["ss -ltnp | grep -i ovenmediaengine",
                      f"ls -l /proc/{process.pid}/cwd   # -c is relative to it",
                      *(f"ome-harness diagnose --api-url http://127.0.0.1:{p}" for p in candidates)]))
    return steps


def _start_steps(hints: RuntimeHints, port: int) -> list[NextStep]:
    steps: list[NextStep] = []
    for container in hints.stopped_containers:
        steps.append(
            NextStep(
                title=f"Start the stopped OME container '{container.name}'",
                details=[
                    f"Docker knows a container of {container.image or 'OME'} in state "
                    f"'{container.status}' (recognised as OME by "
                    f"{container.recognised_by or 'its image'})."
                ],
                commands=[f"docker start {container.name}", f"docker logs --tail 50 {container.name}"],
            )
        )
    for container in hints.running_containers:
        urls = _published_api_urls(container)
        steps.append(_enable_api_step(container, port) if not urls else NextStep(
            title=f"Diagnose the API port the running OME container '{container.name}' publishes",
            details=[f"It publishes its API port {OME_API_PORT} on {', '.join(urls)}, not on {port}."],
            commands=[f"ome-harness diagnose --api-url {url}" for url in urls]))
    steps.extend(_process_steps(hints, port))
    if hints.systemd_unit:
        steps.append(
            NextStep(
                title="Start the OvenMediaEngine service",
                details=[f"systemd unit {hints.systemd_unit} is {hints.systemd_active or 'installed'}."],
                commands=[
                    f"systemctl status {hints.systemd_unit}",
                    f"sudo systemctl start {hints.systemd_unit}",
                    f"journalctl -u {hints.systemd_unit} -n 50 --no-pager",
                ],
            )
        )
    if not steps:
        steps.append(NextStep(
            title="Start OvenMediaEngine with its API enabled",
            details=["No systemd unit, no OME container and no OvenMediaEngine process were found on this "
                     "machine" + ("" if hints.docker_reachable else " (no Docker engine answered)") + ".",
                     "If OME runs elsewhere, point --api-url at that host."],
            commands=["systemctl status ovenmediaengine", "sudo systemctl start ovenmediaengine",
                      "ome-harness up    # a disposable OME in Docker with the API enabled"]))
    return steps


def _published_api_urls(container: OmeContainer) -> list[str]:
    """Where this host reaches the container's port 8081/tcp (OME's API port in its example configs)."""
    urls = []
    for binding in container.ports.get(OME_API_PORT, []):
        host, _, host_port = binding.rpartition(":")
        host = host.strip("[]")
        dial = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else url_host(host)
        urls.append(f"http://{dial}:{host_port}")
    return urls


def _published_by_container(hints: RuntimeHints, port: int) -> tuple[Finding, list[NextStep]] | None:
    container = hints.container_publishing(port)
    if container is None:
        return None
    inside = container.container_port_for(port)
    return (Finding(key="api_disabled_in_container", title="OME Container Runs With Its API Disabled",
                    details=[f"Port {port} is published by the running container '{container.name}' (its "
                             f"{inside}), which runs OME (recognised by {container.recognised_by}).",
                             "Nothing listens on that port inside the container: Docker's proxy accepts the "
                             "connection and then resets it. The image's default config has the API "
                             "bind commented out."]),
            [_enable_api_step(container, port)])


@rule
def ome_not_running(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    tcp = _failed(results, "tcp")
    if tcp is None or tcp.facts.get("open") or tcp.facts.get("unresolved"):
        return None
    port = tcp.facts.get("port", 8081)
    details = [tcp.summary[0].upper() + tcp.summary[1:]]
    published = _published_by_container(hints, port)
    if published is not None:
        return published
    host_processes = [p for p in hints.processes if p.own_network]
    if host_processes:
        details += [f"OvenMediaEngine runs (pid {p.pid}) and listens on TCP "
                    f"{', '.join(map(str, p.ports)) or 'no port'}, not on {port}." for p in host_processes]
        return Finding(key="ome_listens_elsewhere", title=f"OvenMediaEngine Runs, but Not on Port {port}",
                       details=details), _start_steps(hints, port)
    elsewhere = [(c, url) for c in hints.running_containers for url in _published_api_urls(c)]
    if elsewhere:
        details += [f"The running OME container '{c.name}' publishes its API port {OME_API_PORT} at {url}, "
                    f"not on {port}." for c, url in elsewhere]
        return Finding(key="ome_api_on_other_port", title=f"OME Runs in a Container, but Not on Port {port}",
                       details=details), _start_steps(hints, port)
    if hints.running_containers:
        details.append(
            f"An OME container is running ({hints.running_containers[0].name}) but its API port is "
            "closed: the image's default config has the API disabled."
        )
        return Finding(key="api_disabled_in_container", title="OME Container Runs With Its API Disabled",
                       details=details), _start_steps(hints, port)
    if hints.processes:
        details.append("OvenMediaEngine processes run in another network namespace (a container Docker did "
                       "not show here): their ports are inside it.")
        return Finding(key="ome_listens_elsewhere", title=f"OvenMediaEngine Runs, but Not on Port {port}",
                       details=details), _start_steps(hints, port)
    details.append("OvenMediaEngine is not running, or its API is not enabled on this port.")
    return Finding(key="ome_not_running", title="OvenMediaEngine Not Running", details=details), \
        _start_steps(hints, port)


@rule
def ipv6_trap(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    tcp = results.get("tcp")
    if tcp is None or not tcp.facts.get("ipv4_only") or not is_loopback(str(tcp.facts.get("host", ""))):
        return None
    port = tcp.facts["port"]
    ipv4 = next(a for a in tcp.facts["open"] if ":" not in a)
    return (Finding(key="ipv4_only", title="API Listens on IPv4 Only, Clients May Try ::1 First",
                    details=[f"{shown(ipv4, port)} accepts connections; [::1]:{port} answers "
                             f"{tcp.facts['closed'].get('::1', 'nothing')}.",
                             "Node.js 17+ resolves 'localhost' to ::1 first, so a backend configured with "
                             f"http://localhost:{port} fails with 'connect ECONNREFUSED ::1:{port}'."]),
            [NextStep(title="Make the client and OME agree on the address family",
                      details=[f"Either configure clients with http://{ipv4}:{port} instead of localhost,",
                               "or make OME listen on IPv6 as well: add <IP>::</IP> next to <IP>*</IP> in "
                               "Server.xml and restart OME."],
                      commands=[f"grep -n 'OME_API_URL\\|localhost:{port}' backend/.env",
                                f"ome-harness diagnose --api-url http://{ipv4}:{port}"])])


def _wrong_scheme(api: CheckResult, url: str, key: str, speaks: str, given: str, instead: str,
                  evidence: str, other_port: str) -> tuple[Finding, list[NextStep]]:
    """The URL's scheme is not what the port speaks (http:// to TLS, https:// to plain HTTP)."""
    return (Finding(key=key, title=f"API Port Speaks {speaks}",
                    details=[api.facts.get("error", api.summary),
                             f"The URL says {given} but the port {evidence}."]),
            [NextStep(title=f"Use {instead} for this port (or OME's {other_port} API port for {given})",
                      commands=["ome-harness diagnose --api-url " + url.replace(given, instead, 1)])])


@rule
def api_misbehaves(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    api = _failed(results, "api")
    failure = api.failure if api is not None else None
    if api is None or isinstance(failure, OmeUnreachable):
        return None
    if isinstance(failure, OmeTimeout):
        return (
            Finding(
                key="api_timeout",
                title="OME API Does Not Answer in Time",
                details=[
                    api.summary,
                    "The port accepts connections but no answer came within the read timeout.",
                ],
            ),
            [
                NextStep(
                    title="Look at OME's health and logs",
                    commands=[
                        "journalctl -u ovenmediaengine -n 100 --no-pager   # or: docker logs --tail 100 "
                        "<ome>",
                        f"curl -m 10 -sS -o /dev/null -w '%{{http_code}} %{{time_total}}s\\n' "
                        f"{url}/v1/version",
                    ],
                )
            ],
        )
    if isinstance(failure, OmeApiError) and failure.status >= 500:
        # OME's own JSON envelope with a 5xx: OME answers and fails; nobody else owns the port.
        return (Finding(key="ome_server_error", title="OME Answers With an Internal Error",
                        details=[f"OME answered HTTP {api.facts['status']}: "
                                 f"{api.facts.get('message') or '(no message)'}",
                                 "The answer is OME's own JSON envelope, so OME owns the port and failed "
                                 "the request."]),
                [NextStep(title="Read OME's log for this error",
                          commands=["journalctl -u ovenmediaengine -n 100 --no-pager"
                                    "   # or: docker logs --tail 100 <ome>",
                                    f"curl -sS -i {url}/v1/version | head -20"])])
    if isinstance(failure, TlsPortAnswer):
        return _wrong_scheme(api, url, "api_tls_port", "TLS, Not Plain HTTP", "http://", "https://",
                             "hung up on the plain request and completes a TLS handshake", "plain")
    if isinstance(failure, PlainHttpAnswer):
        return _wrong_scheme(api, url, "api_plain_http", "Plain HTTP, Not TLS", "https://", "http://",
                             "answered the TLS handshake with plain text", "TLS")
    if isinstance(failure, OmeNotFound):
        return (
            Finding(
                key="api_url_not_root",
                title="API URL Is Not the Server Root",
                details=[api.summary, "OME routes /v1/... from the server root: drop any path from the URL."],
            ),
            [
                NextStep(
                    title="Use the server root as the API URL",
                    commands=[f"ome-harness diagnose --api-url {url.split('/v1')[0].rstrip('/')}"],
                )
            ],
        )
    port = api_host_port(url)[1]
    if isinstance(failure, (NotHttpAnswer, ConnectionReset)):  # Docker's proxy accepts, then closes or resets
        published = _published_by_container(hints, port)
        if published is not None:
            return published
    titles: dict[type[OmeBadResponse], str] = {
        HtmlAnswer: "API Answered with HTML — Is This OME?",
        NotHttpAnswer: "Something Other Than HTTP Answers on the API Port",
        ConnectionReset: "The API Port Resets Connections",
        Redirected: "The API URL Redirects Elsewhere",
        TlsHandshakeFailed: "TLS Handshake With the API Failed",
    }
    title = next((text for kind, text in titles.items() if isinstance(failure, kind)),
                 "API Answer Is Not OME's JSON")
    # The finding's key names the failure's class by its fixed label (kept stable for report readers).
    label = failure.kind if isinstance(failure, OmeBadResponse) else "other"
    return (Finding(key=f"api_bad_response_{label}", title=title,
                    details=[api.facts.get("error", api.summary),
                             "Another service (a web server, a proxy, a different app) may own this port, "
                             "or the URL points at the wrong path (the harness adds /v1 itself)."]),
            [NextStep(title="Find out what answers on the API port",
                      commands=[f"curl -sS -i {url}/v1/version | head -20",
                                f"ss -ltnp | grep -E ':{port}\\b'"])])


@rule
def token_rejected(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    auth = results.get("auth")
    if auth is None or auth.status is not Status.ERROR:
        return None
    return (
        Finding(
            key="token_rejected" if auth.facts.get("rejected") else "token_missing",
            title="API Token Rejected" if auth.facts.get("rejected") else "API Token Problem",
            details=[
                auth.summary,
                "OME expects 'Authorization: Basic <base64(token)>' with the token alone "
                "(no 'user:' prefix, no trailing colon).",
            ],
        ),
        [
            NextStep(
                title="Use OME's AccessToken",
                details=[
                    "Compare the fingerprints in this report with Server.xml's "
                    "Managers/API/AccessToken (run with --server-xml and --env-file to have them compared)."
                ],
                commands=[
                    "grep -n AccessToken /opt/ovenmediaengine/bin/origin_conf/Server.xml",
                    "ome-harness diagnose --server-xml Server.xml --env-file backend/.env",
                ],
            )
        ],
    )


@rule
def accepts_any_token(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    auth = results.get("auth")
    if auth is None or not auth.facts.get("accepts_any"):
        return None
    return (
        Finding(key="accepts_any_token", title="API Accepts Any Token", details=[auth.summary]),
        [
            NextStep(
                title="Set an AccessToken in Server.xml and check what answers on the port",
                commands=[f"curl -sS -i -H 'Authorization: Basic d3Jvbmc=' {url}/v1/vhosts | head -5"],
            )
        ],
    )


@rule
def config_mismatch(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    bad = [r for r in (results.get("server_xml"), results.get("env_file"), results.get("vhosts"))
           if r is not None and r.status is Status.ERROR]
    if not bad:
        return None
    return (Finding(key="config_mismatch", title="Configuration Does Not Match",
                    details=[f"{r.title}: {r.summary}" for r in bad]),
            [NextStep(title=f"Fix: {r.title}", details=[r.remediation]) for r in bad if r.remediation])


@rule
def endpoint_failures(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    bad = [
        r
        for r in (results.get("streams"), results.get("metrics"))
        if r is not None and r.status is Status.ERROR
    ]
    if not bad:
        return None
    stale = any(r.facts.get("stale") for r in bad)
    return (Finding(key="stale_metrics" if stale else "endpoint_failure",
                    title="Metrics Are Stale" if stale else "API Endpoints Fail",
                    details=[f"{r.title}: {r.summary}" for r in bad]),
            [NextStep(title=f"Fix: {r.title}", details=[r.remediation]) for r in bad if r.remediation])


@rule
def scte35_upgrade(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    scte = results.get("scte35")
    if scte is None or scte.status not in (Status.WARN, Status.ERROR):
        return None
    # No in-band alternative exists in any version (ome-api.md): the step names the version to run.
    if scte.facts.get("on_demand_insertion") is False:
        return (
            Finding(
                key="scte35_api_unavailable",
                title="No On-Demand SCTE-35 Insertion in This OME Version",
                details=[scte.summary],
            ),
            [NextStep(title="Keep SCTE-35 insertion possible", details=[scte.remediation or ""])],
        )
    return (Finding(key="scte35_break_dropped", title="SCTE-35 Breaks Too Short for the LL-HLS Segments",
                    details=[scte.summary]),
            [NextStep(title="Use breaks OME keeps", details=[scte.remediation or ""])])


def derive(results: list[CheckResult], hints: RuntimeHints, url: str) -> tuple[list[Finding], list[NextStep]]:
    by_id = {r.id: r for r in results}
    findings: list[Finding] = []
    steps: list[NextStep] = []
    for apply in RULES:
        outcome = apply(by_id, hints, url)
        if outcome is not None:
            findings.append(outcome[0])
            steps.extend(outcome[1])
    return findings, steps


def for_removed_container(steps: list[NextStep], *, api_url: str, image: str | None, name: str | None,
                          log_path: str | None) -> list[NextStep]:
    """Next steps for `diagnose --launch`: its container is gone once the report is written, so no
    command may point at its URL; they launch a new one instead."""
    port = f":{api_host_port(api_url)[1]}"
    image_option = f" --image {image}" if image else ""
    kept = []
    for step in steps:
        commands = [c for c in step.commands if api_url not in c and port not in c]
        if step.title == HEALTHY_TITLE:
            commands = [f"ome-harness run --target container{image_option}"]
        kept.append(step.model_copy(update={"commands": commands}))
    kept.append(NextStep(
        title="Look at a launched OME again",
        details=[f"The container {name or ''} was removed when the diagnosis ended, so its address "
                 f"({api_url}) no longer answers."
                 + (f" Its log is kept at {log_path}." if log_path else ""),
                 "`ome-harness up` launches the same image and keeps it running until Ctrl-C; "
                 "diagnose the API URL and token it prints."],
        commands=[f"ome-harness up{image_option}",
                  *([f"less {log_path}"] if log_path else [])]))
    return kept
