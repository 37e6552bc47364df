"""Property tests: whatever a peer answers, the OME client returns a typed value or raises OmeError.

Answers come over real HTTP from a loopback server whose next answer each example sets: any JSON
shape in or out of OME's envelope, wrong types, any status, any content type, truncated bodies.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeBadResponse, OmeError

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
# Near-miss payloads: the keys the models read, with values of any type.
stream_like = st.fixed_dictionaries(
    {
        "name": json_values,
        "input": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "createdTime": json_values,
                    "sourceType": json_values,
                    "tracks": st.lists(
                        st.dictionaries(
                            st.sampled_from(["id", "type", "video", "audio", "name"]), json_values, max_size=5
                        ),
                        max_size=3,
                    ),
                }
            ),
        ),
    }
)
stats_like = st.dictionaries(st.sampled_from(["totalBytesIn", "totalBytesOut", "totalConnections",
                                              "maxTotalConnections", "createdTime", "lastUpdatedTime",
                                              "lastRecvTime", "lastSentTime", "connections"]), json_values)
payloads = st.one_of(json_values, stream_like, stats_like)
envelopes = st.one_of(
    payloads.map(lambda p: {"message": "OK", "statusCode": 200, "response": p}),
    st.builds(
        lambda m, c, p: {"message": m, "statusCode": c, "response": p}, json_values, json_values, payloads
    ),
    payloads,
)
statuses = st.sampled_from([200, 201, 204, 207, 301, 302, 400, 401, 403, 404, 418, 500, 502, 503])
content_types = st.sampled_from(
    [
        "application/json;charset=UTF-8",
        "application/json",
        "text/html",
        "text/plain",
        "application/octet-stream",
        "",
        "application/json; charset=latin-1",
    ]
)


class _Answers:
    """One-request-per-connection HTTP server on loopback answering whatever `next` holds."""

    def __init__(self) -> None:
        self.next: bytes = b""
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                conn.recv(65536)
                conn.sendall(self.next)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def answers() -> Iterator[_Answers]:
    server = _Answers()
    yield server
    server.close()


def http(status: int, content_type: str, body: bytes, *, declared: int | None = None) -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body) if declared is None else declared}\r\n"
    head += f"Content-Type: {content_type}\r\n" if content_type else ""
    return (head + "Connection: close\r\n\r\n").encode() + body


CALLS = [lambda c: c.version(), lambda c: c.vhosts(), lambda c: c.vhost("default"), lambda c: c.app("d", "a"),
         lambda c: c.streams("d", "a"), lambda c: c.stream("d", "a", "s"), lambda c: c.stats("d", "a", "s"),
         lambda c: c.send_events("d", "a", "s", [{}])]


def call_all(port: int) -> None:
    with OmeClient(f"http://127.0.0.1:{port}", "property-token", connect_timeout=1, read_timeout=1) as client:
        for call in CALLS:
            with contextlib.suppress(OmeError):  # anything else escaping fails the property
                call(client)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=envelopes, status=statuses, content_type=content_types)
def test_any_json_answer_is_a_value_or_an_ome_error(answers: _Answers, body, status, content_type) -> None:
    answers.next = http(status, content_type, json.dumps(body).encode())
    call_all(answers.port)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300), status=statuses, content_type=content_types, cut=st.integers(0, 50))
def test_any_bytes_or_a_truncated_body_is_an_ome_error_not_an_exception(answers: _Answers, raw, status,
                                                                      content_type, cut) -> None:
    # Content-Length promises more than comes: the peer hangs up mid-answer.
    answers.next = http(status, content_type, raw, declared=len(raw) + cut)
    call_all(answers.port)


def encoded(encoding: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nContent-Type: application/json\r\n"
            f"Content-Encoding: {encoding}\r\nConnection: close\r\n\r\n").encode() + body


def test_an_answer_encoded_unasked_is_decoded_once(answers: _Answers) -> None:
    # The client asks for no encoding; a proxy may gzip anyway. The body is decoded once, not twice.
    answers.next = encoded("gzip", gzip.compress(b'{"message":"OK","statusCode":200,"response":["default"]}'))
    with OmeClient(f"http://127.0.0.1:{answers.port}", "t", connect_timeout=1, read_timeout=1) as client:
        assert client.vhosts() == ["default"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200),
       encoding=st.sampled_from(["gzip", "deflate", "br", "zstd", "identity", "x"]))
def test_a_body_that_does_not_decode_as_its_encoding_says_is_an_ome_error(answers: _Answers, raw,
                                                                         encoding) -> None:
    answers.next = encoded(encoding, raw)
    call_all(answers.port)


def test_a_huge_answer_is_cut_off_and_diagnosed(answers: _Answers) -> None:
    body = b'{"message":"OK","statusCode":200,"response":"' + b"x" * (17 * 1024 * 1024) + b'"}'
    answers.next = http(200, "application/json", body)
    with OmeClient(f"http://127.0.0.1:{answers.port}", "t", connect_timeout=1, read_timeout=5) as client, \
            pytest.raises(OmeBadResponse) as caught:
        client.version()
    assert caught.value.kind == "too-large"
