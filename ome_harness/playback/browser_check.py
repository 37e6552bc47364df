"""What a viewer's browser saw, as a report section (`diagnose --playback STREAM --browser`, scenarios).

LL-HLS is always watched. WebRTC is watched both ways a browser viewer gets it (issue 22): as OvenPlayer
does by default, relay-only through OME's TURN over TCP (what a viewer behind a UDP-blocking firewall
gets), and with `iceTransportPolicy: 'all'` (direct UDP). The emulator has no WebRTC: both are skipped
there with that reason.
"""

from __future__ import annotations

import base64
import time

from ome_harness.playback import webrtc
from ome_harness.playback.browser import (
    PATH_LLHLS,
    PATH_TURN,
    PATH_UDP,
    BrowserViewing,
    mixed_content,
    watch_in_browser,
)
from ome_harness.redaction import mask_userinfo
from ome_harness.results import CheckResult, Evidence, Status

TITLE = "Playback in a viewer's browser (OvenPlayer + hls.js, Chromium)"
HTTPS_SITE = "https://viewers-site.example/"  # any https:// page: the rule does not depend on which
SCREENSHOT_FACT = "screenshot_jpeg_base64"


def watch_llhls_in_browser(master_url: str, *, window_s: float = 5.0, until_error: bool = False,
                           first_frame_deadline_s: float = 15.0) -> BrowserViewing:
    return watch_in_browser(master_url, source_type="llhls", path=PATH_LLHLS, window_s=window_s,
                            until_error=until_error, first_frame_deadline_s=first_frame_deadline_s)


def watch_webrtc_in_browser(signalling_url: str, *, direct_udp: bool, emulated: bool,
                            window_s: float = 4.0, first_frame_deadline_s: float = 15.0) -> BrowserViewing:
    """OvenPlayer's WebRTC: its default (TURN over TCP, relay only) or `iceTransportPolicy: 'all'`."""
    path = PATH_UDP if direct_udp else PATH_TURN
    absent = webrtc.absent_reason(emulated)
    if absent is not None:
        return BrowserViewing(path=path, source_url=signalling_url.split("?")[0], skipped=absent)
    return watch_in_browser(signalling_url, source_type="webrtc", path=path, window_s=window_s,
                            webrtc_config={"iceTransportPolicy": "all"} if direct_udp else None,
                            first_frame_deadline_s=first_frame_deadline_s)


def browser_result(stream: str, viewings: list[BrowserViewing], *, emulated: bool,
                   started: float) -> CheckResult:
    """One report section over every path watched: ERROR when LL-HLS did not play well, WARN when a
    WebRTC path failed (a viewer behind a UDP-blocking firewall gets only the TURN one)."""
    facts: dict[str, object] = {"stream": stream, "emulated": emulated}
    evidence = []
    for viewing in viewings:
        key = {PATH_LLHLS: "llhls", PATH_TURN: "webrtc_turn_tcp", PATH_UDP: "webrtc_udp"}.get(viewing.path,
                                                                                          viewing.path)
        facts[f"{key}_first_frame_s"] = viewing.first_frame_s
        facts[f"{key}_problems"] = viewing.problems()
        if viewing.playback_rate is not None:
            facts[f"{key}_playback_rate"] = viewing.playback_rate
        if viewing.latency_s is not None:
            facts[f"{key}_hls_latency_s"] = viewing.latency_s
        outcome = viewing.figures()
        if viewing.problems():
            outcome += "; " + "; ".join(viewing.problems())
        where = mask_userinfo(viewing.source_url)
        evidence.append(Evidence(what=f"{viewing.path}: {where}", outcome=outcome))
        # The harness's page is http://; a viewer's site is usually https://, where the browser refuses
        # ws:// and http:// (mixed content): said, whatever happened here.
        mixed = mixed_content(HTTPS_SITE, viewing.source_url)
        if mixed is not None and not viewing.skipped:
            facts.setdefault("mixed_content", []).append(mixed)  # type: ignore[union-attr]
            evidence.append(Evidence(what=f"{viewing.path} from an https:// site", outcome=mixed))
        if viewing.screenshot is not None and SCREENSHOT_FACT not in facts:
            facts[SCREENSHOT_FACT] = base64.b64encode(viewing.screenshot).decode()
            facts["screenshot_caption"] = f"{stream} in OvenPlayer ({viewing.path}): {viewing.figures()}"
    llhls = next((v for v in viewings if v.path == PATH_LLHLS), None)
    rtc = [v for v in viewings if v.path != PATH_LLHLS]
    working = [v.path for v in viewings if v.played and not v.problems()]
    facts["paths_working"] = working
    if llhls is not None and (not llhls.played or llhls.problems()):
        status = Status.ERROR
        said = llhls.problems()
        summary = f"{stream}: the browser's player " + (
            f"did not play LL-HLS: {said[0]}" if said else "showed no frame over LL-HLS")
    elif any(not v.skipped and (not v.played or v.problems()) for v in rtc):
        status = Status.WARN
        broken = [v for v in rtc if not v.skipped and (not v.played or v.problems())]
        summary = (f"{stream}: WebRTC fails in the browser over {', '.join(v.path for v in broken)}"
                   f" ({(broken[0].problems() or ['no frame'])[0]})")
        if any(v.path == PATH_TURN for v in broken):
            summary += "; viewers behind a UDP-blocking firewall get only that path"
    else:
        status = Status.OK
        summary = f"{stream}: plays in the browser over " + (", ".join(working) or "nothing")
        if llhls is not None and llhls.first_frame_s is not None:
            summary += f"; LL-HLS first frame {llhls.first_frame_s:.2f} s after page load"
    if any(not v.skipped for v in rtc):
        facts["webrtc_turn_note"] = ("OvenPlayer's default path, relay-only through OME's TURN over TCP, is "
                                     "what a viewer behind a UDP-blocking firewall gets")
    skipped = [v for v in rtc if v.skipped]
    if skipped:
        summary += f"; WebRTC not watched: {skipped[0].skipped.split(':')[0]}"  # type: ignore[union-attr]
    if emulated:
        summary += " (against the emulator)"
    return CheckResult(id="browser", title=TITLE, status=status, summary=summary, evidence=evidence,
                       facts=facts, duration_ms=round((time.monotonic() - started) * 1000, 1))


def check_in_browser(master_url: str, signalling_url: str | None, stream: str, *,
                     emulated: bool) -> CheckResult:
    """Read-only: a viewer's browser plays `stream` over LL-HLS and, where there is one, both WebRTC paths
    (one browser at a time: each costs ~0.6 of a core)."""
    started = time.monotonic()
    viewings = [watch_llhls_in_browser(master_url)]
    if signalling_url is not None:
        viewings += [watch_webrtc_in_browser(signalling_url, direct_udp=udp, emulated=emulated)
                     for udp in (False, True)]
    return browser_result(stream, viewings, emulated=emulated, started=started)
