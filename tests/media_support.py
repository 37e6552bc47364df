"""Plain helpers shared by the media tests (fixtures live in media_fixtures)."""

from __future__ import annotations

import socket

from ome_harness.emulator import EmulatorServer

TOKEN = "media-test-token"


def rtmp_url(server: EmulatorServer, name: str, app: str = "app") -> str:
    return f"{server.target_addresses()['rtmp_base']}/{app}/{name}"


def llhls_url(server: EmulatorServer, name: str, app: str = "app") -> str:
    return f"{server.target_addresses()['llhls_base']}/{app}/{name}/llhls.m3u8"


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on 127.0.0.1 (all held at once, so no two are the same)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
