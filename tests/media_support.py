"""Plain helpers shared by the media tests (fixtures live in media_fixtures)."""

from __future__ import annotations

from ome_harness.emulator import EmulatorServer

TOKEN = "media-test-token"


def rtmp_url(server: EmulatorServer, name: str, app: str = "app") -> str:
    return f"{server.target_addresses()['rtmp_base']}/{app}/{name}"


def llhls_url(server: EmulatorServer, name: str, app: str = "app") -> str:
    return f"{server.target_addresses()['llhls_base']}/{app}/{name}/llhls.m3u8"
