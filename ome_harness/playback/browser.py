"""The viewer's real player: OvenPlayer and hls.js in the system's Chromium, driven by Playwright.

Facts measured with Playwright 1.65, Chromium 156, hls.js 1.7.4, OvenPlayer 0.10.54 (issue 22):
- hls.js must be loaded before OvenPlayer (a global `Hls`, browser_page.py); OvenPlayer forwards only
  hls.js's fatal errors, so hls.js's own errors are read through its `hlsPrepared` instance;
- a missing LL-HLS stream: OvenPlayer error 302 ~30 ms after `ready`; an encoder that stops: `stalled`
  after ~4 s, then 302; WebRTC: 501 for a stream OME cannot offer, 511 when the encoder stops;
- without a deadline on the first frame a player can sit `idle` forever with no error (the emulator's
  old empty audio parts did exactly that), so the first frame always has one;
- hls.js's latency means something only after the first frame;
- OvenPlayer's default WebRTC is relay-only ICE through OME's TURN over TCP (the offer names it);
  direct UDP needs `webrtcConfig: {iceTransportPolicy: 'all'}`.
Chromium is the system's (Debian's `chromium`, or OMH_BROWSER_EXECUTABLE): never a download.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ome_harness.playback.browser_page import ViewerPage, missing_players, page_file, players_dir
from ome_harness.polling import Ready, WaitTimedOut, poll_until

EXECUTABLE_VARIABLE = "OMH_BROWSER_EXECUTABLE"
# Headless, sound allowed to start without a click, and none of Chromium's own background traffic
# (on a closed network it otherwise opens many refused connections and looks up Google's hosts at start:
# /work/.library/env/machines/python.md). Playwright gives every launch a fresh, temporary profile.
CHROMIUM_ARGS = ("--autoplay-policy=no-user-gesture-required", "--no-sandbox", "--disable-gpu",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync")
FREEZE_MS = 250  # a frame gap longer than this is a freeze (issue 22: none over 250 ms on a real OME)
SLOW_PLAYBACK = 0.85  # media time advancing slower than this share of the wall clock is not live playback
NEEDS = ("the browser viewer needs Playwright (pip install 'ome-harness[browser]'), Chromium "
         "(apt-get install chromium) and OvenPlayer + hls.js from npm (npm ci in the project)")

# Chromium's console errors that say it refused a request of the page: mixed content (an https page and
# ws:// or http://), CORS, and Local Network Access (a public https page reaching a private or loopback
# address; seen here with Chromium 156: "blocked by CORS policy: Permission was denied for this request to
# access the `loopback` address space" for an XHR, net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS for a
# WebSocket). Loopback counts as secure, so mixed content itself cannot be shown on loopback.
REFUSALS = ("Mixed Content", "CORS policy", "ERR_BLOCKED_BY")

PATH_LLHLS = "LL-HLS (hls.js inside OvenPlayer)"
PATH_TURN = "WebRTC via OME's TURN over TCP (OvenPlayer's default: relay-only ICE)"
PATH_UDP = "WebRTC direct over UDP (webrtcConfig iceTransportPolicy 'all')"


def chromium_executable() -> str | None:
    configured = os.environ.get(EXECUTABLE_VARIABLE)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_prerequisites() -> list[str]:
    """What is not installed for a browser viewer, each in a few words (empty: ready)."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("Playwright (pip install 'ome-harness[browser]')")
    if chromium_executable() is None:
        missing.append(f"Chromium (apt-get install chromium, or set {EXECUTABLE_VARIABLE})")
    players = missing_players()
    if players:
        missing.append(f"{', '.join(players)} in {players_dir()} (npm ci in the project)")
    return missing


def mixed_content(page_url: str, source_url: str) -> str | None:
    """An https page cannot open ws:// or http:// (the browser blocks mixed content): say so, or None."""
    if urlsplit(page_url).scheme == "https" and urlsplit(source_url).scheme in ("ws", "http"):
        secure = "wss" if urlsplit(source_url).scheme == "ws" else "https"
        return (f"mixed content: an https:// page cannot open {urlsplit(source_url).scheme}:// "
                f"({source_url.split('?')[0]}); the browser blocks it — serve it over {secure}://")
    return None


@dataclass(frozen=True)
class PlayerError:
    at_s: float
    code: int | None
    message: str

    def __str__(self) -> str:
        return f"OvenPlayer error {self.code} at {self.at_s:.1f} s: {self.message}"


@dataclass(frozen=True)
class HlsError:
    at_s: float
    type: str
    details: str
    fatal: bool
    reason: str

    def __str__(self) -> str:
        kind = "fatal" if self.fatal else "non-fatal"
        return f"hls.js {kind} {self.type}/{self.details} at {self.at_s:.1f} s" + (
            f": {self.reason}" if self.reason else "")


@dataclass
class BrowserViewing:
    """What one viewer's browser saw; times in s since the page started loading."""

    path: str
    source_url: str
    first_frame_s: float | None = None
    ready_s: float | None = None
    frames: int = 0
    playback_rate: float | None = None  # media time advanced / wall time, after the first frame
    freezes: list[tuple[float, float]] = field(default_factory=list)  # frame gaps over FREEZE_MS
    waiting_after_first_frame: int = 0
    player_errors: list[PlayerError] = field(default_factory=list)
    hls_errors: list[HlsError] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    final_state: str | None = None
    latency_s: float | None = None  # hls.js's own estimate, median after the first frame
    dropped_frames: int = 0
    decoded_frames: int = 0
    stalled: bool = False
    screenshot: bytes | None = None  # JPEG of the player after the window, when a frame was shown
    error: str | None = None  # the viewer itself could not run, or saw no first frame in time
    skipped: str | None = None
    refused_by_browser: list[str] = field(default_factory=list)  # Chromium's words for what it refused

    @property
    def played(self) -> bool:
        return self.first_frame_s is not None

    def problems(self) -> list[str]:
        """What a viewer would complain about, each in one sentence (empty: it played well)."""
        found = [self.error] if self.error else []
        found += [str(e) for e in self.player_errors]
        found += [f"the browser refused: {m}" for m in self.refused_by_browser[:1]]
        found += [str(e) for e in self.hls_errors if e.fatal]
        if self.played and self.playback_rate is not None and self.playback_rate < SLOW_PLAYBACK:
            found.append(f"playback advanced {self.playback_rate:.2f}× the wall clock (not live)")
        if self.freezes:
            longest = max(b - a for a, b in self.freezes)
            found.append(f"{len(self.freezes)} freeze(s) over {FREEZE_MS} ms, longest {longest:.2f} s")
        # A `waiting` after the first frame is a figure, not a problem by itself: hls.js at the live edge
        # raises one whenever a part comes a little late, and a viewer notices only when the picture stops
        # (a freeze, above). Counted as a problem, it failed a healthy emulator run about once in six.
        return found

    def figures(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        if not self.played:
            return "no frame shown" + (f" (final state {self.final_state})" if self.final_state else "")
        rate = f", playback {self.playback_rate:.2f}× wall clock" if self.playback_rate is not None else ""
        latency = f", hls.js latency {self.latency_s:.2f} s" if self.latency_s is not None else ""
        waited = (f", waited for data {self.waiting_after_first_frame} time(s) after the first frame"
                  if self.waiting_after_first_frame else "")
        return (f"first frame {self.first_frame_s:.2f} s after page load, {self.frames} frames shown{rate}"
                f"{latency}, {len(self.freezes)} freeze(s){waited}, {self.dropped_frames} dropped")


class BrowserViewer:
    """One headless Chromium with the viewer page, kept open across steps; a context manager that
    always closes the browser and the page's server.

        with BrowserViewer() as viewer:
            viewer.open(url)                      # starts OvenPlayer on the page
            viewer.wait_first_frame(15)           # or a player error, or the deadline
            viewer.watch(5)                       # then read: viewer.viewing()
    """

    def __init__(self, *, path: str = PATH_LLHLS) -> None:
        self.path = path
        self._stack = contextlib.ExitStack()
        self._page: Any = None
        self._seen: dict[str, Any] | None = None
        self._viewing = BrowserViewing(path=path, source_url="")

    def __enter__(self) -> BrowserViewer:
        missing = missing_prerequisites()
        if missing:
            raise BrowserUnavailable(f"{NEEDS}; missing: {'; '.join(missing)}")
        from playwright.sync_api import sync_playwright

        try:
            self._server = self._stack.enter_context(ViewerPage())
            # Chromium's own temporary files go to a folder of this viewer's, removed after the browser
            # (an interrupted close can leave org.chromium.Chromium.* behind in the shared TMPDIR).
            scratch = _scratch_folder()
            self._stack.callback(shutil.rmtree, scratch, ignore_errors=True)
            playwright = self._stack.enter_context(sync_playwright())
            browser = playwright.chromium.launch(executable_path=chromium_executable(), headless=True,
                                                 args=list(CHROMIUM_ARGS), timeout=30_000,
                                                 env={**os.environ, "TMPDIR": scratch})
            self._stack.callback(browser.close)
            self._page = browser.new_context(viewport={"width": 640, "height": 360}).new_page()
            # Chromium's own words when it refuses a request of the page (mixed content, CORS).
            self._page.on("console", self._console)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _console(self, message: Any) -> None:
        if message.type == "error" and any(word in message.text for word in REFUSALS):
            self._viewing.refused_by_browser.append(message.text[:300])

    def open(self, source_url: str, *, source_type: str = "llhls",
             webrtc_config: dict[str, Any] | None = None, https_page: str | None = None) -> None:
        """Start OvenPlayer on the page. `https_page` (an https:// origin such as a viewer's site): the
        page is loaded from there instead, so the browser applies its mixed-content rules for real."""
        config = {"type": source_type, "url": source_url, "webrtcConfig": webrtc_config or {},
                  "freezeMs": FREEZE_MS}
        self._viewing = BrowserViewing(path=self.path, source_url=source_url.split("?")[0])
        base = self._server.url
        if https_page is not None:
            base = https_page.rstrip("/") + "/"
            self._page.route(base + "**", _answer_from_page_files)
        self._page.goto(base + "#" + quote(json.dumps(config)), timeout=15_000)

    def open_another_page(self, source_url: str, *, source_type: str = "llhls") -> None:
        """One more viewer in the same browser (another tab), playing on its own; nothing is read back
        from it (bench/browser_viewer.py measures what a further page costs)."""
        config = {"type": source_type, "url": source_url, "webrtcConfig": {}, "freezeMs": FREEZE_MS}
        page = self._page.context.new_page()
        page.goto(self._server.url + "#" + quote(json.dumps(config)), timeout=15_000)

    def wait_first_frame(self, deadline_s: float) -> bool:
        """Until the first frame, a player error or the deadline; True when a frame was shown."""
        def first_frame() -> Ready[dict[str, Any]] | str:
            seen = _read(self._page)
            if seen["firstFrameMs"] is not None or seen["errors"] or seen["createError"]:
                return Ready(seen)
            return f"player state {seen['state']}, {len(seen['hlsErrors'])} hls.js error(s)"

        try:
            self._seen = poll_until(first_frame, deadline_s=deadline_s, what="the player's first frame",
                                    interval_s=0.1)
        except WaitTimedOut as exc:
            self._viewing.error = f"no frame within {deadline_s:g} s (last seen: {exc.last_seen})"
            self._seen = _read(self._page)
        return self._seen["firstFrameMs"] is not None

    def watch(self, window_s: float, *, until_error: bool = False) -> None:
        """Keep watching `window_s` (with `until_error`: until the player reports an error, at most that)."""
        ends = time.monotonic() + window_s

        def window_over() -> Ready[None] | str:
            if until_error and _read(self._page)["errors"]:
                return Ready(None)
            return Ready(None) if time.monotonic() >= ends else "watching"

        poll_until(window_over, deadline_s=window_s + 5, what="the viewing window", interval_s=0.2)
        self._seen = _read(self._page)

    def viewing(self, *, screenshot: bool = True) -> BrowserViewing:
        """What was seen so far (a screenshot of the player when a frame was shown)."""
        viewing = self._viewing
        _fill(viewing, self._seen if self._seen is not None else _read(self._page))
        if screenshot and viewing.played:
            viewing.screenshot = self._page.locator("#player").screenshot(type="jpeg", quality=70,
                                                                          timeout=5_000)
        return viewing


def _scratch_folder() -> str:
    # Chromium keeps a Unix socket in its TMPDIR (org.chromium.Chromium.XXXXXX/SingletonSocket, ~46 bytes
    # more) and a socket path holds at most 107: under a deep TMPDIR (pytest's tmp_path) Chromium aborts
    # with "Socket path too long". /tmp then.
    base = tempfile.gettempdir()
    return tempfile.mkdtemp(prefix="omh-browser-", dir=base if len(base) <= 48 else "/tmp")


def _answer_from_page_files(route: Any) -> None:
    found = page_file(urlsplit(route.request.url).path)
    if found is None:
        route.fulfill(status=404)
    else:
        route.fulfill(status=200, body=found[0], content_type=found[1])


class BrowserUnavailable(Exception):
    """Playwright, Chromium or the npm players are not installed (the message says which)."""


def watch_in_browser(source_url: str, *, source_type: str = "llhls", path: str = PATH_LLHLS,
                     window_s: float = 5.0, first_frame_deadline_s: float = 15.0,
                     webrtc_config: dict[str, Any] | None = None, until_error: bool = False,
                     screenshot: bool = True, https_page: str | None = None) -> BrowserViewing:
    """Open the viewer page in headless Chromium, play `source_url` with OvenPlayer, and watch it.

    The first frame has a deadline; once it came, the player is watched for `window_s` (or, with
    `until_error`, until the player reports an error, at most `window_s`). A player error before the
    first frame ends the watch at once (a missing stream is answered in milliseconds).
    """
    missing = missing_prerequisites()
    if missing:
        return BrowserViewing(path=path, source_url=source_url.split("?")[0],
                              error=f"{NEEDS}; missing: {'; '.join(missing)}")
    from playwright.sync_api import Error as PlaywrightError

    try:
        with BrowserViewer(path=path) as viewer:
            try:
                viewer.open(source_url, source_type=source_type, webrtc_config=webrtc_config,
                            https_page=https_page)
                if viewer.wait_first_frame(first_frame_deadline_s):
                    viewer.watch(window_s, until_error=until_error)
                return viewer.viewing(screenshot=screenshot)
            except PlaywrightError as exc:
                viewing = viewer.viewing(screenshot=False)
                viewing.error = viewing.error or f"the browser failed: {str(exc).splitlines()[0]}"
                return viewing
    except BrowserUnavailable as exc:
        return BrowserViewing(path=path, source_url=source_url.split("?")[0], error=str(exc))


def _read(page: Any) -> dict[str, Any]:
    return page.evaluate("() => ({...window.omh, state: window.omhPlayer && window.omhPlayer.getState()})")


def _watch(page: Any, viewing: BrowserViewing, window_s: float, deadline_s: float, until_error: bool) -> None:
    def first_frame() -> Ready[dict[str, Any]] | str:
        seen = _read(page)
        if seen["firstFrameMs"] is not None or seen["errors"] or seen["createError"]:
            return Ready(seen)
        return f"player state {seen['state']}, {len(seen['hlsErrors'])} hls.js error(s)"

    try:
        seen = poll_until(first_frame, deadline_s=deadline_s, what="the player's first frame", interval_s=0.1)
    except WaitTimedOut as exc:
        viewing.error = f"no frame within {deadline_s:g} s (last seen: {exc.last_seen})"
        seen = _read(page)
    if seen["firstFrameMs"] is not None:
        ends = time.monotonic() + window_s

        def window_over() -> Ready[None] | str:
            if until_error and _read(page)["errors"]:
                return Ready(None)
            return Ready(None) if time.monotonic() >= ends else "watching"

        poll_until(window_over, deadline_s=window_s + 5, what="the viewing window", interval_s=0.2)
        seen = _read(page)
    _fill(viewing, seen)


def _fill(viewing: BrowserViewing, seen: dict[str, Any]) -> None:
    def s(ms: float | None) -> float | None:
        return None if ms is None else round(ms / 1000, 3)

    if seen.get("createError"):
        viewing.error = f"OvenPlayer could not be created: {seen['createError']}"
    viewing.first_frame_s, viewing.ready_s = s(seen["firstFrameMs"]), s(seen["readyMs"])
    viewing.frames = int(seen["frames"])
    viewing.freezes = [(s(a) or 0.0, s(b) or 0.0) for a, b in seen["frameGaps"]]
    viewing.waiting_after_first_frame = len(seen["waitingAfterFirst"])
    viewing.player_errors = [PlayerError(s(t) or 0.0, code, message) for t, code, message in seen["errors"]]
    viewing.hls_errors = [HlsError(s(t) or 0.0, kind, details, fatal, reason)
                          for t, kind, details, fatal, reason in seen["hlsErrors"]]
    viewing.states = [state for _, state in seen["states"]]
    viewing.final_state = seen.get("state")
    viewing.stalled = any(kind == "stalled" for _, kind in seen["events"])
    if seen["hlsLatency"]:
        viewing.latency_s = round(statistics.median(seen["hlsLatency"]), 3)
    first = seen["firstFrameMs"]
    samples = [x for x in seen["samples"] if first is not None and x[0] >= first]
    if samples:
        viewing.decoded_frames, viewing.dropped_frames = int(samples[-1][2]), int(samples[-1][3])
    if len(samples) >= 2 and samples[-1][0] - samples[0][0] >= 1000:
        media_s, wall_ms = samples[-1][1] - samples[0][1], samples[-1][0] - samples[0][0]
        viewing.playback_rate = round(media_s * 1000 / wall_ms, 3)


def save_screenshot(viewing: BrowserViewing, directory: Path, name: str) -> Path | None:
    if viewing.screenshot is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.jpg"
    path.write_bytes(viewing.screenshot)
    return path
