"""Check 7: cross-checks against OME's Server.xml and the backend's .env, when the user gives them."""

from __future__ import annotations

import contextlib

from dotenv import dotenv_values

from ome_harness.checks.context import CheckContext
from ome_harness.checks.network import api_host_port, connect, is_loopback, node_first_address, shown
from ome_harness.checks.registry import check
from ome_harness.config import ConfigError
from ome_harness.ome.server_xml import read_server_xml
from ome_harness.redaction import fingerprint
from ome_harness.results import CheckResult, Evidence, Status

TOKEN_KEYS = ("OME_API_TOKEN", "OME_API_KEY", "OME_ACCESS_TOKEN", "OME_TOKEN")
URL_KEYS = ("OME_API_URL", "OME_URL", "OME_API_BASE_URL", "OME_BASE_URL")


@check("server_xml", "Server.xml cross-check", order=70, when=lambda ctx: ctx.server_xml is not None,
       not_run_note="Server.xml cross-check not run: pass --server-xml PATH to compare OME's config with this client.")
def diagnose_server_xml(ctx: CheckContext) -> CheckResult:
    title = "Server.xml cross-check"
    path = ctx.server_xml
    assert path is not None  # guaranteed by `when`
    try:
        facts = read_server_xml(path)
    except ConfigError as exc:
        return CheckResult(id="server_xml", title=title, status=Status.ERROR, summary=str(exc))
    _, port = api_host_port(ctx.target.api_url)
    evidence = [Evidence(what="Bind/Managers/API", outcome="present" if facts.api_enabled else "missing"),
                Evidence(what="Bind/Managers/API/Port", outcome=str(facts.api_port)),
                Evidence(what="Managers/API/AccessToken",
                         outcome=fingerprint(facts.access_token) if facts.access_token else "empty"),
                Evidence(what="IP", outcome=", ".join(facts.ips))]
    problems: list[str] = []
    token_matches = not (facts.access_token and ctx.target.token and facts.access_token != ctx.target.token)
    if not facts.api_enabled:
        problems.append("the API is disabled (Bind/Managers/API is missing or commented out, as in the official "
                        "image's default config)")
    elif facts.api_port != port:
        problems.append(f"the API is bound to port {facts.api_port}, the harness uses port {port}")
    if facts.api_enabled and not facts.access_token:
        problems.append("<AccessToken> is empty: a release build logs 'Empty <AccessToken> is not allowed' and exits")
    elif not token_matches:
        problems.append(f"AccessToken ({fingerprint(facts.access_token)}) differs from the configured token "
                        f"({fingerprint(ctx.target.token)})")
    result_facts = {"api_enabled": facts.api_enabled, "api_port": facts.api_port,
                    "listens_ipv6": facts.listens_ipv6, "token_matches": token_matches}
    if problems:
        return CheckResult(id="server_xml", title=title, status=Status.ERROR, summary="; ".join(problems),
                           evidence=evidence, facts=result_facts,
                           remediation="Enable the API with <Bind><Managers><API><Port>…</Port></API></Managers></Bind> "
                                       "and <Managers><API><AccessToken>…</AccessToken></API></Managers>, then restart OME.")
    status, summary = Status.OK, f"API enabled on port {facts.api_port}, token matches the configured one"
    host, _ = api_host_port(ctx.target.api_url)
    if is_loopback(host) and not facts.listens_ipv6:
        status = Status.WARN
        summary += "; OME listens on IPv4 only (no <IP>::</IP>), so clients resolving localhost to ::1 fail"
    return CheckResult(id="server_xml", title=title, status=status, summary=summary, evidence=evidence,
                       facts=result_facts)


@check("env_file", "Backend .env cross-check", needs=("tcp",), order=80, when=lambda ctx: ctx.env_file is not None,
       not_run_note="Backend .env cross-check not run: pass --env-file PATH to compare the backend's token with OME's.")
def diagnose_env_file(ctx: CheckContext) -> CheckResult:
    title = "Backend .env cross-check"
    path = ctx.env_file
    assert path is not None  # guaranteed by `when`
    if not path.is_file():
        return CheckResult(id="env_file", title=title, status=Status.ERROR, summary=f"{path}: no such file")
    values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    keys = [ctx.env_token_key, *[k for k in TOKEN_KEYS if k != ctx.env_token_key]]
    key = next((k for k in keys if values.get(k)), None)
    expected = ctx.target.token
    if ctx.server_xml is not None:
        with contextlib.suppress(ConfigError):  # its own check reports a broken Server.xml
            expected = read_server_xml(ctx.server_xml).access_token or expected
    evidence: list[Evidence] = []
    problems: list[str] = []
    url_problem = None
    if key is None:
        problems.append(f"no OME token in {path.name} (looked for {', '.join(keys)})")
    else:
        evidence.append(Evidence(what=key, outcome=fingerprint(values[key])))
        if expected and values[key] != expected:
            problems.append(f"{key} ({fingerprint(values[key])}) differs from the token OME expects "
                            f"({fingerprint(expected)})")
    url_key = next((k for k in URL_KEYS if values.get(k)), None)
    if url_key:
        evidence.append(Evidence(what=url_key, outcome=values[url_key]))
        url_problem, url_evidence = judge_backend_url(ctx, url_key, values[url_key])
        evidence += url_evidence
    if problems or url_problem:
        fixes = [f"Set {key or ctx.env_token_key} in {path} to OME's AccessToken"] if problems else []
        fixes += [f"point {url_key} at an address where OME listens"] if url_problem else []
        return CheckResult(id="env_file", title=title, status=Status.ERROR,
                           summary="; ".join(problems + ([url_problem] if url_problem else [])),
                           evidence=evidence,
                           facts={"token_matches": not problems, "url_reachable": not url_problem},
                           remediation=" and ".join(fixes) + ", then restart the backend.")
    return CheckResult(id="env_file", title=title, status=Status.OK, evidence=evidence,
                       summary=f"{key} matches the token OME expects", facts={"token_matches": True})


def judge_backend_url(ctx: CheckContext, key: str, url: str) -> tuple[str | None, list[Evidence]]:
    """The backend's OME URL on its own, as a Node.js 17+ backend dials it: the first address of its host
    (IPv6 first: `localhost` is ::1), nothing else — the `ECONNREFUSED ::1:8081` of an IPv4-only OME.

    Whatever address the diagnosis itself was pointed at does not matter here.
    """
    host, port = api_host_port(url)
    first, resolve_error = node_first_address(host, ctx.target.connect_timeout)
    if first is None:
        return f"{key}: cannot resolve {host!r} ({resolve_error})", []
    probe = connect(first, port, ctx.target.connect_timeout)
    evidence = [Evidence(what=f"{key} as Node.js 17+ dials it",
                         outcome=f"{shown(first, port)}: {probe.outcome}", latency_ms=probe.latency_ms)]
    ipv4_only = False
    if ctx.server_xml is not None:
        with contextlib.suppress(ConfigError):  # its own check reports a broken Server.xml
            ipv4_only = not read_server_xml(ctx.server_xml).listens_ipv6
    if not probe.open:
        hint = " (use 127.0.0.1, or add <IP>::</IP> to OME's Server.xml)" if probe.family == "IPv6" else ""
        return (f"{key}={url}: a Node.js 17+ backend connects to {shown(first, port)} and gets "
                f"{probe.outcome}{hint}"), evidence
    if ipv4_only and probe.family == "IPv6" and is_loopback(host):
        return (f"{key}={url}: a Node.js 17+ backend connects to {shown(first, port)}, "
                "but the Server.xml binds OME on IPv4 only, so whatever answers there is not that OME "
                "(use 127.0.0.1)"), evidence
    return None, evidence
