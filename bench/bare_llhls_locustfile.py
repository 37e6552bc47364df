"""The anchor for bench/load_viewers.py: a bare Locust `FastHttpUser` making the same requests as the
harness's viewer, in the same order, with as little Python as a load engineer would write.

The sequence was taken from the harness's viewer on the emulator (its requests logged; bench/README.md):
master → media playlist → the last complete segment → a blocking reload for the next part
(`_HLS_msn`/`_HLS_part`, numbered as the viewer numbers them: the preload hint's position) → every part
it lists from that one on → the next reload. An answer without the asked part waits half a part
target, a failed one a part target, a viewer out of the window goes back to the live edge. Nothing is
measured beyond what Locust records: no stalls, no causes, no counts.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import gevent
from locust import FastHttpUser, constant, events, task

# One pass over a playlist: each part's URI and position (OME names parts `part_<track>_<msn>_<index>_`),
# the preload hint's position, the part target, each segment's URI (the last one wins).
_TOKENS = re.compile(
    r'^#EXT-X-PART:.*?URI="([^"]*part_\d+_(\d+)_(\d+)_[^"]*)"'
    r'|^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="[^"]*part_\d+_(\d+)_(\d+)_'
    r"|^#EXT-X-PART-INF:PART-TARGET=([\d.]+)|^([^#\s].*)",
    re.M,
)


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--stream-path", default="/app/stream/llhls.m3u8")


def _scan(text: str) -> tuple[list[tuple[int, int, str]], str | None, tuple[int, int] | None, float]:
    """(parts as (msn, index, uri), the last segment's uri, the hint's (msn, index), part target)."""
    parts, segment, hint, target = [], None, None, 1.0
    for uri, msn, index, hint_msn, hint_index, part_target, segment_uri in _TOKENS.findall(text):
        if uri:
            parts.append((int(msn), int(index), uri))
        elif hint_msn:
            hint = (int(hint_msn), int(hint_index))
        elif part_target:
            target = float(part_target)
        else:
            segment = segment_uri
    return parts, segment, hint, target


class BareLlhlsUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = connection_timeout = 5.0

    def on_start(self) -> None:
        master_url = f"{self.host.rstrip('/')}{self.environment.parsed_options.stream_path}"
        master = (self.client.get(master_url, name="first_playlist").content or b"").decode()
        variant = next(line for line in master.splitlines() if line and not line.startswith("#"))
        self.media_url = urljoin(master_url, variant.strip())
        self.glue = "&" if "?" in self.media_url else "?"
        self._live_edge((self.client.get(self.media_url, name="first_playlist").content or b"").decode())

    def _live_edge(self, text: str) -> None:
        parts, segment, hint, self.target = _scan(text)
        if segment:
            self.client.get(urljoin(self.media_url, segment), name="segment")
        self.next = hint or ((parts[-1][0], parts[-1][1] + 1) if parts else (0, 0))

    @task
    def follow(self) -> None:
        msn, part = self.next
        answer = self.client.get(
            f"{self.media_url}{self.glue}_HLS_msn={msn}&_HLS_part={part}", name="blocking_reload"
        )
        if answer.status_code != 200:
            gevent.sleep(self.target)
            return
        text = (answer.content or b"").decode()  # not .text: its charset detection costs more than the parse
        parts, _segment, hint, self.target = _scan(text)
        if parts and self.next < parts[0][:2]:
            self._live_edge(text)
            return
        fresh = [p for p in parts if p[:2] >= self.next]
        if not fresh:
            gevent.sleep(self.target / 2)
            return
        for msn_, index, uri in fresh:
            self.client.get(urljoin(self.media_url, uri), name="part")
            self.next = (msn_, index + 1)
        if hint is not None and hint > self.next:
            self.next = hint
