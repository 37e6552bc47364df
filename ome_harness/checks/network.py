"""Check 1: name resolution and a TCP connect to every address of the API host.

For a loopback host both 127.0.0.1 and ::1 are probed whatever the resolver says: Node.js
(17+) resolves `localhost` to ::1 first while OME binds IPv4 only by default (`<IP>*</IP>`),
which is the `ECONNREFUSED ::1:8081` of many failed deployments.
"""

from __future__ import annotations

import errno as errno_codes
import ipaddress
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ome_harness.addresses import url_host
from ome_harness.checks.context import CheckContext
from ome_harness.checks.registry import check
from ome_harness.results import CheckResult, Evidence, Status

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
LOOPBACKS = ("::1", "127.0.0.1")
T = TypeVar("T")


@dataclass(frozen=True)
class Probe:
    address: str
    resolved: bool
    outcome: str
    latency_ms: float

    @property
    def open(self) -> bool:
        return self.outcome == "open"

    @property
    def family(self) -> str:
        return "IPv6" if ":" in self.address else "IPv4"


def shown(address: str, port: int) -> str:
    return f"{url_host(address)}:{port}"


def api_host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    # `is None`, not `or`: an explicit port 0 is not the scheme's default.
    port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
    return parts.hostname or "localhost", port


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def connect(address: str, port: int, timeout: float) -> Probe:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    started = time.perf_counter()
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect((address, port))
        outcome = "open"
    except TimeoutError:
        outcome = f"no answer within {timeout:g}s"
    except OSError as exc:
        outcome = errno_codes.errorcode.get(exc.errno or 0, str(exc))
    return Probe(address, True, outcome, round((time.perf_counter() - started) * 1000, 2))


class _Immediate:
    """The executor interface for a call that cannot block: run it now."""

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # re-raised by result(), as a pool would
            done.set_exception(exc)
        return done

    def shutdown(self, wait: bool = True) -> None:
        pass


def resolve(host: str, port: int, timeout: float) -> tuple[list[str], str | None]:
    """The host's addresses in the resolver's order (bounded in time), or the resolver's complaint."""
    if _is_ip(host):
        return [host], None
    # The resolver has no timeout of its own: bound it so a stuck DNS cannot hold the diagnosis.
    lookup = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omh-resolve")
    try:
        infos = lookup.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(timeout=timeout)
        return list(dict.fromkeys(str(i[4][0]) for i in infos)), None
    except socket.gaierror as exc:
        return [], exc.strerror
    except UnicodeError:
        return [], "not a valid host name"
    except FutureTimeout:
        return [], f"no answer from the resolver within {timeout:g}s"
    finally:
        lookup.shutdown(wait=False)


def node_first_address(host: str, timeout: float) -> tuple[str | None, str | None]:
    """The one address a Node.js 17+ client dials for `host`: IPv6 first (its `verbatim` lookup puts ::1
    before 127.0.0.1 for localhost), and no fallback to the other family before Node 20's autoSelectFamily."""
    if is_loopback(host) and not _is_ip(host):
        # Debian's, Ubuntu's and Docker's /etc/hosts map localhost to ::1 too, and Node 17+ takes it first;
        # this machine's resolver may say otherwise (a minimal /etc/hosts), the backend's usually does not.
        return "::1", None
    addresses, error = resolve(host, 0, timeout)
    ipv6 = [a for a in addresses if ":" in a]
    return (ipv6 or addresses or [None])[0], error


def probe_addresses(host: str, port: int, timeout: float) -> tuple[list[Probe], str | None]:
    """Connect to every address of `host` (and both loopbacks for a loopback host)."""
    # The resolver has no timeout of its own: bound it so a stuck DNS cannot hold the diagnosis.
    # A literal address or a loopback name needs no DNS (getaddrinfo answers at once): no thread for it.
    local = _is_ip(host) or host.lower() in LOOPBACK_NAMES
    lookup = _Immediate() if local else ThreadPoolExecutor(max_workers=1, thread_name_prefix="omh-resolve")
    try:
        infos = lookup.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(timeout=timeout)
        resolved = list(dict.fromkeys(str(i[4][0]) for i in infos))
        resolve_error = None
    except socket.gaierror as exc:
        resolved, resolve_error = [], exc.strerror
    except UnicodeError:
        resolved, resolve_error = [], "not a valid host name"
    except FutureTimeout:
        resolved, resolve_error = [], f"no answer from the resolver within {timeout:g}s"
    finally:
        lookup.shutdown(wait=False)
    addresses = list(resolved)
    if is_loopback(host):
        addresses += [a for a in LOOPBACKS if a not in addresses]
    if not addresses:
        return [], resolve_error
    if all(is_loopback(a) for a in addresses):
        # A loopback connect is answered by this kernel at once (open or refused): no threads needed.
        probes = [connect(a, port, timeout) for a in addresses]
    else:
        with ThreadPoolExecutor(max_workers=len(addresses)) as pool:
            probes = list(pool.map(lambda a: connect(a, port, timeout), addresses))
    return [Probe(p.address, p.address in resolved, p.outcome, p.latency_ms) for p in probes], resolve_error


@check("tcp", "Name resolution and TCP connect", order=10)
def diagnose_addresses(ctx: CheckContext) -> CheckResult:
    host, port = api_host_port(ctx.target.api_url)
    probes, resolve_error = probe_addresses(host, port, ctx.target.connect_timeout)
    if not probes:
        return CheckResult(id="tcp", title="Name resolution and TCP connect", status=Status.ERROR,
                           summary=f"cannot resolve {host}: {resolve_error}",
                           remediation="Check the host name in the API URL, or use the server's IP address.",
                           facts={"host": host, "port": port, "unresolved": True})
    # A loopback *name* may be resolved to either family by other clients (Node.js tries ::1 first), so
    # both loopbacks count; for a literal address the sibling is probed only to explain a failure.
    name_based = not _is_ip(host)
    relevant = [p for p in probes if p.resolved or name_based]
    evidence = [Evidence(what=f"tcp {shown(p.address, port)}" + (
        "" if p.resolved else " (loopback sibling)" if name_based else " (loopback sibling, not used by this URL)"),
        outcome=p.outcome, latency_ms=p.latency_ms) for p in probes]
    open_ = [p for p in probes if p.open]
    closed = [p for p in relevant if not p.open]
    facts = {"host": host, "port": port, "open": [p.address for p in open_],
             "closed": {p.address: p.outcome for p in probes if not p.open},
             "ipv4_only": bool(open_) and all(p.family == "IPv4" for p in open_)
                          and any(p.family == "IPv6" for p in closed)}
    title = "Name resolution and TCP connect"
    if not open_:
        where = " or ".join(shown(p.address, port).rsplit(":", 1)[0] for p in probes)
        refused = all(p.outcome == "ECONNREFUSED" for p in probes)
        summary = (f"nothing listens on port {port} at {where}" if refused
                   else f"no address of {host} accepts connections on port {port}")
        return CheckResult(id="tcp", title=title, status=Status.ERROR, summary=summary, evidence=evidence,
                           facts=facts, remediation="Start OvenMediaEngine and make sure its API is enabled "
                                                    f"on port {port} (Bind/Managers/API/Port in Server.xml).")
    configured_open = [p for p in open_ if p.resolved]
    if not configured_open:
        return CheckResult(
            id="tcp", title=title, status=Status.ERROR, evidence=evidence, facts=facts,
            summary=(f"{host} resolves to {', '.join(p.address for p in probes if p.resolved)} where nothing "
                     f"listens on port {port}; the API answers only on {', '.join(p.address for p in open_)}"),
            remediation=f"Point the client at http://{shown(open_[0].address, port)} or make OME listen on "
                        "both families (<IP>*</IP> and <IP>::</IP> in Server.xml).")
    if closed:
        sample = closed[0]
        return CheckResult(
            id="tcp", title=title, status=Status.WARN, evidence=evidence, facts=facts,
            summary=(f"open on {', '.join(p.address for p in open_)}; {sample.outcome} on "
                     f"{shown(sample.address, port)}"),
            remediation=(f"Clients that try {sample.address} first fail. Use http://{shown(open_[0].address, port)} "
                         "in their configuration, or add <IP>::</IP> to Server.xml so OME listens on IPv6 too."))
    return CheckResult(id="tcp", title=title, status=Status.OK, evidence=evidence, facts=facts,
                       summary=f"port {port} open on " + ", ".join(p.address for p in open_))
