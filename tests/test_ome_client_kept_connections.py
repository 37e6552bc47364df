"""A kept connection that the server closes as a request leaves on it (its keep-alive timeout ending at
that moment) is not a diagnosis: the client sends an idempotent request again on another connection
(three attempts at most, within the request's own deadline). Found in CI: a scenario's check read a
stream list on a connection idle for ~5 s, the emulator's keep-alive timeout, and reported "something
that does not speak HTTP answers on this port"."""

from __future__ import annotations

import base64
import http.client
import time

import pytest
from fleet_peers import peer, peer_methods
from ome_samples import TOKEN

from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeError


def test_a_get_on_a_kept_connection_closed_by_the_server_is_sent_again_on_a_new_one() -> None:
    with peer("closes-kept") as port, OmeClient(f"http://127.0.0.1:{port}", "t") as client:
        assert client.request("GET", "/v1/first") == []
        assert client.request("GET", "/v1/second") == []  # the kept connection closes under it
        # first on connection 1; second on connection 1 (closed unanswered), then on connection 2
        assert peer_methods(port) == ["GET", "GET", "GET"]


def test_a_post_is_never_sent_twice() -> None:
    """A POST may have taken effect before the connection closed (RFC 9112 §9.3.1): its error stands."""
    with peer("closes-kept") as port, OmeClient(f"http://127.0.0.1:{port}", "t") as client:
        client.request("GET", "/v1/first")
        with pytest.raises(OmeError):
            client.request("POST", "/v1/start", body={})
        assert peer_methods(port) == ["GET", "POST"]


def test_a_fresh_connection_closed_without_an_answer_is_the_diagnosis_sent_once() -> None:
    with peer("reset") as port, OmeClient(f"http://127.0.0.1:{port}", "t") as client:
        with pytest.raises(OmeError, match="reset the connection"):
            client.request("GET", "/v1/version")
        assert peer_methods(port) == ["GET"]


def test_the_harness_s_own_servers_keep_a_connection_longer_than_its_clients_do(emulator) -> None:  # noqa: ANN001
    """The emulator (and the reference backend, same uvicorn settings) must not be the server that closes a
    kept connection under a request: it keeps it past the clients' 5 s expiry (ome/deadline.py)."""
    auth = {"Authorization": "Basic " + base64.b64encode(TOKEN.encode()).decode()}
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    try:
        for idle_s in (0, 5.5):
            time.sleep(idle_s)
            # http.client sends on the socket it kept: a server that closed it gives RemoteDisconnected.
            connection.request("GET", "/v1/version", headers=auth)
            answer = connection.getresponse()
            assert answer.status == 200 and answer.read()
    finally:
        connection.close()
