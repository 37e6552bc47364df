"""From failed checks to 'Issues Found' and 'Next Steps' with commands that fit how OME is run."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ome_harness.checks.host_probe import RuntimeHints
from ome_harness.checks.network import is_loopback, shown
from ome_harness.results import CheckResult, Finding, NextStep, Status

Rule = Callable[[Mapping[str, CheckResult], RuntimeHints, str], tuple[Finding, list[NextStep]] | None]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def _failed(results: Mapping[str, CheckResult], id: str) -> CheckResult | None:
    result = results.get(id)
    return result if result is not None and result.status is Status.ERROR else None


def _start_steps(hints: RuntimeHints, port: int) -> list[NextStep]:
    steps: list[NextStep] = []
    for container in hints.stopped_containers:
        steps.append(NextStep(title=f"Start the stopped OME container '{container.name}'",
                              details=[f"Docker knows a container of {container.image or 'OME'} in state "
                                       f"'{container.status}'."],
                              commands=[f"docker start {container.name}", f"docker logs --tail 50 {container.name}"]))
    for container in hints.running_containers:
        steps.append(NextStep(
            title=f"Enable the API in the running container '{container.name}'",
            details=["The container runs but nothing answers on the API port: the official image's default "
                     "config (origin_conf/Server.xml) has the API bind commented out, and 8081 is not in the "
                     "image's EXPOSE list.",
                     "Mount a Server.xml with <Bind><Managers><API><Port>8081</Port></API></Managers></Bind> and "
                     "<Managers><API><AccessToken>…</AccessToken></API></Managers>, and publish the port.",
                     "Or let the harness run a correctly configured one: `ome-harness up`."],
            commands=[f"docker inspect --format '{{{{json .NetworkSettings.Ports}}}}' {container.name}",
                      f"docker run -d --name ome -p {port}:{port} -p 1935:1935 -p 3333:3333 -p 9999:9999/udp "
                      "-v $PWD/Server.xml:/opt/ovenmediaengine/bin/origin_conf/Server.xml "
                      "ovenmedialabs/ovenmediaengine:v0.21.0"]))
    if hints.systemd_unit:
        steps.append(NextStep(title="Start the OvenMediaEngine service",
                              details=[f"systemd unit {hints.systemd_unit} is {hints.systemd_active or 'installed'}."],
                              commands=[f"systemctl status {hints.systemd_unit}",
                                        f"sudo systemctl start {hints.systemd_unit}",
                                        f"journalctl -u {hints.systemd_unit} -n 50 --no-pager"]))
    if not steps:
        steps.append(NextStep(
            title="Start OvenMediaEngine with its API enabled",
            details=["No systemd unit and no OME container were found on this machine"
                     + ("" if hints.docker_reachable else " (no Docker engine answered)") + ".",
                     "If OME runs elsewhere, point --api-url at that host."],
            commands=["systemctl status ovenmediaengine", "sudo systemctl start ovenmediaengine",
                      "ome-harness up    # a disposable OME in Docker with the API enabled"]))
    return steps


@rule
def ome_not_running(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    tcp = _failed(results, "tcp")
    if tcp is None or tcp.facts.get("open") or tcp.facts.get("unresolved"):
        return None
    port = tcp.facts.get("port", 8081)
    details = [tcp.summary[0].upper() + tcp.summary[1:]]
    if hints.running_containers:
        details.append(f"An OME container is running ({hints.running_containers[0].name}) but its API port is "
                       "closed: the image's default config has the API disabled.")
        return Finding(key="api_disabled_in_container", title="OME Container Runs With Its API Disabled",
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


@rule
def api_misbehaves(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    api = _failed(results, "api")
    if api is None or api.facts.get("failure") == "OmeUnreachable":
        return None
    kind = api.facts.get("kind")
    if api.facts.get("failure") == "OmeTimeout":
        return (Finding(key="api_timeout", title="OME API Does Not Answer in Time", details=[api.summary,
                        "The port accepts connections but no answer came within the read timeout."]),
                [NextStep(title="Look at OME's health and logs",
                          commands=["journalctl -u ovenmediaengine -n 100 --no-pager   # or: docker logs --tail 100 <ome>",
                                    f"curl -m 10 -sS -o /dev/null -w '%{{http_code}} %{{time_total}}s\\n' {url}/v1/version"])])
    if api.facts.get("failure") == "OmeNotFound":
        return (Finding(key="api_url_not_root", title="API URL Is Not the Server Root",
                        details=[api.summary, "OME routes /v1/... from the server root: drop any path from the URL."]),
                [NextStep(title="Use the server root as the API URL",
                          commands=[f"ome-harness diagnose --api-url {url.split('/v1')[0].rstrip('/')}"])])
    title = {"html": "API Answered with HTML — Is This OME?",
             "not-http": "Something Other Than HTTP Answers on the API Port",
             "reset": "The API Port Resets Connections", "redirect": "The API URL Redirects Elsewhere"}.get(kind or "", "API Answer Is Not OME's JSON")
    return (Finding(key=f"api_bad_response_{kind or 'other'}", title=title,
                    details=[api.facts.get("error", api.summary),
                             "Another service (a web server, a proxy, a different app) may own this port, "
                             "or the URL points at the wrong path (the harness adds /v1 itself)."]),
            [NextStep(title="Find out what answers on the API port",
                      commands=[f"curl -sS -i {url}/v1/version | head -20", "ss -ltnp | grep -E ':8081\\b'"])])


@rule
def token_rejected(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    auth = results.get("auth")
    if auth is None or auth.status is not Status.ERROR:
        return None
    return (Finding(key="token_rejected" if auth.facts.get("rejected") else "token_missing",
                    title="API Token Rejected" if auth.facts.get("rejected") else "API Token Problem",
                    details=[auth.summary, "OME expects 'Authorization: Basic <base64(token)>' with the token alone "
                             "(no 'user:' prefix, no trailing colon)."]),
            [NextStep(title="Use OME's AccessToken",
                      details=["Compare the fingerprints in this report with Server.xml's "
                               "Managers/API/AccessToken (run with --server-xml and --env-file to have them compared)."],
                      commands=["grep -n AccessToken /opt/ovenmediaengine/bin/origin_conf/Server.xml",
                                "ome-harness diagnose --server-xml Server.xml --env-file backend/.env"])])


@rule
def accepts_any_token(results: Mapping[str, CheckResult], hints: RuntimeHints, url: str):
    auth = results.get("auth")
    if auth is None or not auth.facts.get("accepts_any"):
        return None
    return (Finding(key="accepts_any_token", title="API Accepts Any Token", details=[auth.summary]),
            [NextStep(title="Set an AccessToken in Server.xml and check what answers on the port",
                      commands=[f"curl -sS -i -H 'Authorization: Basic d3Jvbmc=' {url}/v1/vhosts | head -5"])])


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
    bad = [r for r in (results.get("streams"), results.get("metrics")) if r is not None and r.status is Status.ERROR]
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
    if scte is None or scte.status is not Status.WARN:
        return None
    return (Finding(key="scte35_api_unavailable", title="SCTE-35 Cannot Be Inserted Through the API",
                    details=[scte.summary]),
            [NextStep(title="Insert SCTE-35 in-band", details=[scte.remediation or ""])])


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
