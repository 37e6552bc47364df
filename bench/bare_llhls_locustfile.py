"""The baseline for bench/load_viewers.py: a bare Locust HttpUser fetching the same URLs as the harness's
viewer (the media playlist, then its newest part, once per part target), with no LL-HLS logic at all."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from locust import HttpUser, constant_pacing, events, task


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--stream-path", default="/app/stream/llhls.m3u8")


class BareLlhlsUser(HttpUser):
    wait_time = constant_pacing(0.5)  # the emulator's part target

    def on_start(self) -> None:
        master_url = f"{self.host.rstrip('/')}{self.environment.parsed_options.stream_path}"
        master = self.client.get(master_url, name="playlist").text
        variant = next(line for line in master.splitlines() if line and not line.startswith("#"))
        self.media_url = urljoin(master_url, variant.strip())

    @task
    def follow(self) -> None:
        playlist = self.client.get(self.media_url, name="playlist").text
        parts = re.findall(r'#EXT-X-PART:[^\n]*URI="([^"]+)"', playlist)
        if parts:
            self.client.get(urljoin(self.media_url, parts[-1]), name="part")
