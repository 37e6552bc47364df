"""The page a browser viewer opens: hls.js, then OvenPlayer (both from npm), and a recorder of what plays.

Served by the harness on loopback at a port of its own, so the page's origin is never OME's and every
LL-HLS request is a cross-origin one, as for a real viewer (OME's `CrossDomains`). hls.js loads before
OvenPlayer because OvenPlayer looks for a global `Hls` (issue 22). The players' files come from the
project's git-ignored `node_modules` (package.json pins them; scripts/provision runs `npm ci`) or from
OMH_PLAYERS_DIR: nothing is downloaded at run time and nothing of theirs is in the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from ome_harness.serving import LoopbackServer

# What the page loads, in this order (name in node_modules, file inside it).
PLAYER_FILES = (("hls.js", "dist/hls.min.js"), ("ovenplayer", "dist/ovenplayer.js"))
PLAYERS_DIR_VARIABLE = "OMH_PLAYERS_DIR"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>ome-harness browser viewer</title>
<style>html,body{margin:0;background:#000}#player{width:640px;height:360px}</style>
<script src="/players/hls.js"></script>
<script src="/players/ovenplayer"></script>
</head><body><div id="player"></div><script src="/recorder.js"></script></body></html>
"""

# Runs in the page. Everything it sees goes into window.omh, which the viewer reads back at the end;
# times are ms since the page started (performance.now()).
RECORDER = r"""
const cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const omh = window.omh = {events: [], errors: [], hlsErrors: [], states: [], firstFrameMs: null,
  readyMs: null, frameGaps: [], waitingAfterFirst: [], samples: [], frames: 0, lastFrameMs: null,
  hlsLatency: [], created: false, createError: null};
const now = () => Math.round(performance.now());
let video = null;
function watchVideo(element) {
  video = element;
  element.addEventListener('waiting', () => {
    if (omh.firstFrameMs !== null) omh.waitingAfterFirst.push(now());
  });
  element.addEventListener('stalled', () => omh.events.push([now(), 'stalled']));
  element.addEventListener('ended', () => omh.events.push([now(), 'ended']));
  const onFrame = (t, meta) => {
    const at = now();
    if (omh.firstFrameMs === null) omh.firstFrameMs = at;
    else if (at - omh.lastFrameMs > cfg.freezeMs && !element.paused) {
      omh.frameGaps.push([omh.lastFrameMs, at]);
    }
    omh.lastFrameMs = at; omh.frames += 1;
    element.requestVideoFrameCallback(onFrame);
  };
  element.requestVideoFrameCallback(onFrame);
}
try {
  const player = window.omhPlayer = OvenPlayer.create('player', {
    autoStart: true, mute: true, controls: false,
    sources: [{type: cfg.type, file: cfg.url, label: 'omh'}],
    webrtcConfig: cfg.webrtcConfig || {},
  });
  omh.created = true;
  player.on('ready', () => { omh.readyMs = now(); });
  player.on('stateChanged', (d) => omh.states.push([now(), d.newstate]));
  player.on('error', (e) => omh.errors.push([now(), e.code, String(e.message || '')]));
  player.on('hlsPrepared', (hls) => {
    window.omhHls = hls;
    hls.on(Hls.Events.ERROR, (name, d) => omh.hlsErrors.push(
      [now(), d.type, d.details, !!d.fatal, String(d.reason || (d.error && d.error.message) || '')]));
  });
} catch (e) { omh.createError = String(e); }
setInterval(() => {
  if (!video) { const found = document.querySelector('#player video'); if (found) watchVideo(found); return; }
  const q = video.getVideoPlaybackQuality();
  omh.samples.push([now(), video.currentTime, q.totalVideoFrames, q.droppedVideoFrames]);
  if (omh.firstFrameMs !== null && window.omhHls && typeof window.omhHls.latency === 'number'
      && window.omhHls.latency > 0) omh.hlsLatency.push(window.omhHls.latency);
}, 100);
"""


def players_dir() -> Path:
    """Where `hls.js` and `ovenplayer` are installed: OMH_PLAYERS_DIR, else the project's node_modules."""
    configured = os.environ.get(PLAYERS_DIR_VARIABLE)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "node_modules"


def missing_players(directory: Path | None = None) -> list[str]:
    """The player files that are not installed (empty when the page can load)."""
    directory = directory or players_dir()
    return [f"{name}/{file}" for name, file in PLAYER_FILES if not (directory / name / file).is_file()]


def page_file(path: str, directory: Path | None = None) -> tuple[bytes, str] | None:
    """The body and content type the page's `path` (`/`, `/recorder.js`, `/players/NAME`) answers, or None.

    Also what an `https://` page is made of: the viewer routes such a page's requests to these inside the
    browser (Playwright), so an https origin is real to Chromium without a certificate here."""
    if path in ("", "/"):
        return PAGE.encode(), "text/html; charset=utf-8"
    if path == "/recorder.js":
        return RECORDER.encode(), "text/javascript"
    files = {f"/players/{name}": (directory or players_dir()) / name / file for name, file in PLAYER_FILES}
    if path in files:
        return files[path].read_bytes(), "text/javascript"
    return None


def _app(directory: Path) -> Starlette:
    files = {name: directory / name / file for name, file in PLAYER_FILES}

    async def page(_request: object) -> Response:
        return HTMLResponse(PAGE)

    async def recorder(_request: object) -> Response:
        return Response(RECORDER, media_type="text/javascript")

    async def player(request: object) -> Response:
        path = files.get(request.path_params["name"])  # type: ignore[attr-defined]
        if path is None:
            return Response(status_code=404)
        return FileResponse(path, media_type="text/javascript")

    return Starlette(routes=[Route("/", page), Route("/recorder.js", recorder),
                             Route("/players/{name:path}", player)])


class ViewerPage(LoopbackServer):
    """The viewer page on 127.0.0.1 at a free port (an origin of its own); a context manager."""

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__(_app(directory or players_dir()), ("127.0.0.1",), name="browser-viewer-page")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"
