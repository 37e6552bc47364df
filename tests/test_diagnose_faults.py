"""Each injected fault makes the right check fail with the right diagnosis; a healthy target passes."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from ome_samples import TOKEN

from ome_harness.checks.api import FRESHNESS_WINDOW_S
from ome_harness.checks.diagnosis import diagnose
from ome_harness.emulator import EmulatorServer
from ome_harness.results import Report, Status
from ome_harness.target import OmeTarget
from ome_harness.testing import require


def target(url: str, token: str | None = TOKEN, **extra: object) -> OmeTarget:
    return OmeTarget(kind="url", api_url=url, token=token, connect_timeout=1.0, read_timeout=1.0, **extra)


def statuses(report: Report) -> dict[str, Status]:
    return {r.id: r.status for r in report.results}


def finding_keys(report: Report) -> list[str]:
    return [f.key for f in report.issues]


def test_healthy_emulator_gives_all_ok(emulator: EmulatorServer) -> None:
    report = diagnose(target(emulator.url), probe_host=False)
    assert set(statuses(report).values()) == {Status.OK}, statuses(report)
    assert report.exit_code == 0 and report.issues == []
    assert report.target.version == "0.20.0"
    assert report.target.emulator and "not a real OvenMediaEngine" in report.target.emulator


def test_live_stream_is_read_and_its_stats_move(emulator: EmulatorServer) -> None:
    emulator.state.add_stream("stream")
    report = diagnose(target(emulator.url), probe_host=False)
    by_id = {r.id: r for r in report.results}
    assert "stream" in by_id["streams"].summary and "H264 640x352" in by_id["streams"].summary
    assert by_id["metrics"].status is Status.OK and by_id["metrics"].facts["bitrate_bps"] > 0
    # The second reading came once the counters moved, not at the end of the freshness window.
    assert by_id["metrics"].facts["sampled_s"] < FRESHNESS_WINDOW_S


def test_closed_port_is_diagnosed_as_ome_not_running_on_both_loopbacks(closed_port: int) -> None:
    report = diagnose(target(f"http://localhost:{closed_port}"), probe_host=False)
    tcp = report.results[0]
    assert tcp.status is Status.ERROR
    assert f"nothing listens on port {closed_port} at 127.0.0.1 or [::1]" in tcp.summary
    assert {e.what.split()[1] for e in tcp.evidence} == {f"127.0.0.1:{closed_port}", f"[::1]:{closed_port}"}
    assert statuses(report)["auth"] is Status.SKIP  # never OK when the API cannot be reached
    assert finding_keys(report)[0] == "ome_not_running"
    assert "ECONNREFUSED" in (report.error or "")
    assert report.exit_code == 1


def test_ipv4_only_api_reached_as_localhost_warns_about_the_ipv6_trap(
    emulator_ipv4_only: EmulatorServer,
) -> None:
    report = diagnose(target(f"http://localhost:{emulator_ipv4_only.port}"), probe_host=False)
    assert statuses(report)["tcp"] is Status.WARN
    assert statuses(report)["api"] is Status.OK
    assert "ipv4_only" in finding_keys(report)
    issue = next(f for f in report.issues if f.key == "ipv4_only")
    assert f"ECONNREFUSED ::1:{emulator_ipv4_only.port}" in " ".join(issue.details)


def test_ipv4_only_api_probed_as_ipv6_is_the_ipv6_trap(emulator_ipv4_only: EmulatorServer) -> None:
    report = diagnose(target(f"http://[::1]:{emulator_ipv4_only.port}"), probe_host=False)
    tcp = next(r for r in report.results if r.id == "tcp")
    assert tcp.status is Status.ERROR
    assert "the API answers only on 127.0.0.1" in tcp.summary
    assert statuses(report)["api"] is Status.ERROR
    assert "ipv4_only" in finding_keys(report) and "ome_not_running" not in finding_keys(report)
    assert report.exit_code == 1


def test_wrong_token_is_diagnosed_as_auth_failure(emulator: EmulatorServer) -> None:
    report = diagnose(target(emulator.url, token="not-the-token"), probe_host=False)
    auth = next(r for r in report.results if r.id == "auth")
    assert auth.status is Status.ERROR and auth.summary == "token rejected: Invalid credential"
    assert statuses(report)["api"] is Status.OK  # the API is there: only the token is wrong
    assert statuses(report)["streams"] is Status.SKIP
    assert finding_keys(report) == ["token_rejected"]


def test_missing_token_is_an_auth_error(emulator: EmulatorServer) -> None:
    report = diagnose(target(emulator.url, token=None), probe_host=False)
    assert statuses(report)["auth"] is Status.ERROR


def test_api_that_accepts_any_token_warns(emulator: EmulatorServer) -> None:
    emulator.state.faults.accept_any_token = True
    report = diagnose(target(emulator.url), probe_host=False)
    assert statuses(report)["auth"] is Status.WARN
    assert "accepts_any_token" in finding_keys(report)
    assert report.exit_code == 0


def test_html_answer_is_diagnosed_not_crashed_on(emulator: EmulatorServer) -> None:
    emulator.state.faults.html = True
    report = diagnose(target(emulator.url), probe_host=False)
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR and api.summary == "API answered with HTML — is this OME?"
    assert finding_keys(report) == ["api_bad_response_html"]


def test_garbage_json_is_diagnosed_not_crashed_on(emulator: EmulatorServer) -> None:
    emulator.state.faults.garbage_json = True
    report = diagnose(target(emulator.url), probe_host=False)
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR and "not JSON" in api.summary
    assert "api_bad_response_not-json" in finding_keys(report)


def test_wrong_shape_of_a_stream_is_diagnosed(emulator: EmulatorServer) -> None:
    emulator.state.add_stream("stream")
    emulator.state.faults.wrong_shape = True
    report = diagnose(target(emulator.url), probe_host=False)
    streams = next(r for r in report.results if r.id == "streams")
    assert streams.status is Status.ERROR and "unexpected shape at input" in streams.summary


def test_slow_api_is_bounded_by_the_timeout(emulator: EmulatorServer) -> None:
    emulator.state.faults.response_delay_s = 3.0
    report = diagnose(target(emulator.url), probe_host=False)
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR and api.summary == "No answer within 1s"
    assert "api_timeout" in finding_keys(report)


def test_server_that_never_answers_is_bounded_by_the_timeout(silent_server: int) -> None:
    started = time.monotonic()
    report = diagnose(target(f"http://127.0.0.1:{silent_server}"), probe_host=False)
    # A bound, not a speed claim: the diagnosis must end instead of hanging on a silent peer.
    assert time.monotonic() - started < 15
    assert statuses(report)["tcp"] is not Status.ERROR  # it does accept connections
    assert statuses(report)["api"] is Status.ERROR and "No answer within" in report.results[1].summary


def test_stale_metrics_are_caught(emulator: EmulatorServer) -> None:
    emulator.state.add_stream("stream")
    emulator.state.faults.stale_metrics = True
    report = diagnose(target(emulator.url), probe_host=False)
    metrics = next(r for r in report.results if r.id == "metrics")
    assert metrics.status is Status.ERROR and metrics.summary.startswith("stale:")
    assert "stale_metrics" in finding_keys(report)


def test_unknown_app_is_diagnosed(emulator: EmulatorServer) -> None:
    report = diagnose(target(emulator.url, app="live"), probe_host=False)
    vhosts = next(r for r in report.results if r.id == "vhosts")
    assert vhosts.status is Status.ERROR and "app 'live' not found" in vhosts.summary


@pytest.mark.parametrize("version, status", [("0.20.0", Status.OK), ("0.21.0", Status.WARN)])
def test_scte35_capability_follows_the_version(version: str, status: Status) -> None:
    from ome_harness.emulator import EmulatorSettings

    with EmulatorServer(EmulatorSettings(token=TOKEN, version=version)) as server:
        report = diagnose(target(server.url), probe_host=False)
    scte = next(r for r in report.results if r.id == "scte35")
    assert scte.status is status
    if status is Status.WARN:
        assert "eventFormat is not supported" in scte.summary
        assert "scte35_api_unavailable" in finding_keys(report)


def test_missing_stream_detail_is_named(emulator: EmulatorServer) -> None:
    emulator.state.add_stream("stream")
    with target(emulator.url).client() as client:
        from ome_harness.ome import OmeNotFound
        with pytest.raises(OmeNotFound) as caught:
            client.stream("default", "app", "no-such-stream")
    assert caught.value.message == "Could not find the stream: [default/#default#app/no-such-stream]"


def test_peer_that_does_not_speak_http_is_diagnosed(silent_server: int) -> None:
    import socket
    import threading

    with socket.socket() as banner:
        banner.bind(("127.0.0.1", 0))
        banner.listen(4)

        def speak_ssh() -> None:
            # Every connection (the TCP probe's and the API client's, in either order) gets the banner.
            while True:
                try:
                    conn, _ = banner.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                    conn.settimeout(2)
                    with contextlib.suppress(OSError):  # the client hangs up once it sees no HTTP
                        conn.recv(1024)

        threading.Thread(target=speak_ssh, daemon=True).start()
        report = diagnose(target(f"http://127.0.0.1:{banner.getsockname()[1]}"), probe_host=False)
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR and "does not speak HTTP" in api.summary
    assert "api_bad_response_not-http" in finding_keys(report)
    assert not any(step.title == "Exercise stream workflows" for step in report.next_steps)


def test_invalid_host_name_is_diagnosed_not_crashed_on() -> None:
    report = diagnose(target("http://a..b:8081"), probe_host=False)
    tcp = next(r for r in report.results if r.id == "tcp")
    assert tcp.status is Status.ERROR and "cannot resolve a..b" in tcp.summary
    assert "the check itself failed" not in " ".join(r.summary for r in report.results)
    assert "ome_not_running" not in finding_keys(report)


def test_peer_that_trickles_its_answer_is_bounded_by_the_timeout() -> None:
    import socket
    import threading

    stop = threading.Event()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(0.2)

        def trickle() -> None:
            # Each byte comes well within the read timeout, so only a total deadline ends the request.
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                except OSError:  # the listening socket was closed: the test is over
                    return
                threading.Thread(target=_drip, args=(conn, stop), daemon=True).start()

        threading.Thread(target=trickle, daemon=True).start()
        reports: list[Report] = []
        run = threading.Thread(target=lambda: reports.append(
            diagnose(target(f"http://127.0.0.1:{server.getsockname()[1]}"), probe_host=False)), daemon=True)
        run.start()
        run.join(timeout=15)  # a bound, not a speed claim: without a total deadline this never ends
        stop.set()
    assert not run.is_alive(), "the diagnosis is still waiting on a peer that trickles its answer"
    api = next(r for r in reports[0].results if r.id == "api")
    assert api.status is Status.ERROR and api.summary == "No answer within 1s"


def _drip(conn, stop) -> None:  # noqa: ANN001
    with conn:
        try:
            conn.recv(4096)
        except OSError:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b" ")
            except OSError:
                return
            time.sleep(0.3)


def test_https_to_a_plain_http_port_says_so(emulator: EmulatorServer) -> None:
    report = diagnose(target(emulator.url.replace("http://", "https://")), probe_host=False)
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR
    assert api.summary == "This port speaks plain HTTP (TLS handshake failed): use http://"
    assert "EPERM" not in api.summary + str(api.facts)
    assert finding_keys(report) == ["api_plain_http"]
    assert api.remediation and emulator.url in api.remediation


def _serve(handle) -> tuple[socket.socket, threading.Event]:  # noqa: ANN001
    """A loopback listener that runs `handle(conn, stop)` for every connection, until `stop` is set."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn, stop), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server, stop


def _banner_and_hold(conn: socket.socket, stop: threading.Event) -> None:
    # Like an SMTP/SSH/Redis-style service: greets at once, then waits for its own protocol forever.
    with conn:
        with contextlib.suppress(OSError):
            conn.sendall(b"220 mail.example ESMTP ready\r\n")
        stop.wait(20)


def test_banner_service_that_keeps_the_socket_open_is_not_a_slow_api() -> None:
    server, stop = _serve(_banner_and_hold)
    with server:
        report = diagnose(target(f"http://127.0.0.1:{server.getsockname()[1]}"), probe_host=False)
        stop.set()
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR and "does not speak HTTP" in api.summary, api.summary
    assert "220 mail.example ESMTP ready" in str(api.facts.get("error"))
    assert "api_timeout" not in finding_keys(report) and "api_bad_response_not-http" in finding_keys(report)
    assert "read_timeout" not in (api.remediation or "")


def _tls_only(context: ssl.SSLContext):  # noqa: ANN202
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        # Like OME's TLS API port (or any HTTPS server that hangs up on plain text): a plain HTTP request
        # fails its handshake and the connection ends without an HTTP answer.
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(4096)
    return handle


def test_http_to_a_tls_port_says_so(tmp_path: Path) -> None:
    # Found by the CLI audit: this said "The connection was reset before any answer".
    require(shutil.which("openssl") is not None, "needs openssl for a certificate (apt-get install openssl)")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "k",
                    "-out", tmp_path / "c", "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "c", tmp_path / "k")
    server, stop = _serve(_tls_only(context))
    with server:
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        report = diagnose(target(url), probe_host=False)
        stop.set()
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR
    assert api.summary == "This port speaks TLS (HTTPS): use https://", api.summary
    assert finding_keys(report) == ["api_tls_port"]
    assert api.remediation and url.replace("http://", "https://") in api.remediation


def _ome_500(conn: socket.socket, stop: threading.Event) -> None:
    # OME's error envelope (statusCode/message, '[HTTP] ... (code)' decoration as in the 4xx samples).
    body = (b'{"message":"[HTTP] Internal Server Error: could not read the server info (500)",'
            b'"statusCode":500}')
    with conn, contextlib.suppress(OSError):
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


def test_ome_envelope_with_http_500_is_ome_failing_in_its_own_words() -> None:
    server, stop = _serve(_ome_500)
    with server:
        report = diagnose(target(f"http://127.0.0.1:{server.getsockname()[1]}"), probe_host=False)
        stop.set()
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR
    assert api.summary == ("OME answers but fails: HTTP 500, "
                           "'Internal Server Error: could not read the server info'")
    assert finding_keys(report) == ["ome_server_error"]
    issue = report.issues[0]
    assert "could not read the server info" in " ".join(issue.details)
    assert "Another service" not in " ".join(issue.details)


def test_explicit_port_0_is_not_the_schemes_default() -> None:
    from ome_harness.checks.network import api_host_port

    assert api_host_port("http://127.0.0.1:0") == ("127.0.0.1", 0)
    assert api_host_port("https://ome.example") == ("ome.example", 443)


def _endless_json(conn: socket.socket, stop: threading.Event) -> None:
    # A 200 that never ends, streamed as fast as loopback takes it (about 1 GB/s).
    chunk = b" " * 65536
    with conn, contextlib.suppress(OSError):
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                     b'{"a":"')
        while not stop.is_set():
            conn.sendall(chunk)


def test_an_answer_beyond_16_mib_is_cut_off_as_not_omes_api() -> None:
    from ome_harness.ome import OmeClient
    from ome_harness.ome.client import MAX_ANSWER_BYTES
    from ome_harness.ome.errors import OmeBadResponse

    server, stop = _serve(_endless_json)
    started = time.monotonic()
    with server, OmeClient(f"http://127.0.0.1:{server.getsockname()[1]}", TOKEN, read_timeout=60) as client:
        try:
            with pytest.raises(OmeBadResponse) as caught:
                client.version()
        finally:
            stop.set()
    # The cap, not the 60 s deadline, ended it: a removed cap would read on for a minute, then time out.
    assert caught.value.kind == "too-large" and str(MAX_ANSWER_BYTES) in caught.value.detail
    assert MAX_ANSWER_BYTES == 16 * 1024 * 1024
    assert time.monotonic() - started < 30
