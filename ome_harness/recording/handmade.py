"""The hand-made captures of ../shared/samples/: which observation each file is, and what was guessed.

Those folders have no manifest: their files are named by whoever captured them. This table ties each
one to the observation key a procedure makes for the same question, so `fidelity` compares them
like any recording. A file that is not in the table is kept as unmapped and named in the report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# file stem (without .http/.m3u8/.txt/.json) → observation key. Stems repeat across folders with the
# same meaning (v0.20.0-media and v0.21.0-media use the same names for the same procedure).
HANDMADE_KEYS: dict[str, str] = {
    # top level (v0.20.0 REST API, idle server), docker/ (the same through a container's port)
    "00_version": "api-read/version",
    "01_vhosts": "api-read/vhosts",
    "d01_vhosts": "api-read/vhosts",
    "02_vhost_default": "api-read/vhost",
    "03_apps": "api-read/apps",
    "04_app": "api-read/app",
    "05_streams_empty": "api-read/streams",
    "06_stats_server": "api-read/stats-server",
    "07_stats_vhost_idle": "api-read/stats-vhost",
    "10_401_wrong_token": "api-errors/wrong-token",
    "d06_401": "api-errors/wrong-token",
    "11_401_no_auth": "api-errors/no-token",
    "12_404_unknown_stream": "api-errors/unknown-stream",
    "13_404_unknown_vhost": "api-errors/unknown-vhost",
    "15_404_unknown_path": "api-errors/unknown-path",
    "16_404_stats_unknown_stream": "api-errors/stats-unknown-stream",
    "20_query_token": "api-errors/query-token",
    "22_root_path": "api-errors/root-path",
    "23_head_vhosts": "api-errors/head-vhosts",
    "25_app_name_prefixed_internal": "api-errors/internal-app-name",
    "70_options_preflight": "api-errors/options-vhosts",
    # a live RTMP stream
    "30_streams_live": "rtmp-publish/streams",
    "d02_streams": "rtmp-publish/streams",
    "31_stream": "rtmp-publish/stream-detail",
    "d03_stream": "rtmp-publish/stream-detail",
    "32_stats_vhost_live": "rtmp-publish/stats-vhost",
    "33_stats_app_live": "rtmp-publish/stats-app",
    "34_stats_stream_live": "rtmp-publish/stats-stream",
    "d04_stats_stream": "rtmp-publish/stats-stream",
    "35_stats_server_live": "rtmp-publish/stats-server",
    # DELETE of the recording's own stream, and what follows
    "80_delete_stream": "delete-own-stream/delete",
    "d07_delete_stream": "delete-own-stream/delete",
    "85_delete_then_immediate_get": "delete-own-stream/get-right-after-delete",
    "d08_get_immediately_after_delete_still_200": "delete-own-stream/get-right-after-delete",
    "81_get_stream_after_delete": "delete-own-stream/get-after-delete-later",
    "d09_404_after_delete_later": "delete-own-stream/get-after-delete-later",
    "82_streams_after_delete": "delete-own-stream/streams-after-delete-later",
    "83_delete_stream_again": "delete-own-stream/delete-again",
    "84_stats_stream_after_delete": "delete-own-stream/stats-after-delete-later",
    # an SRT publish
    "36_streams_with_srt": "srt-publish/streams",
    "37_stream_srt": "srt-publish/stream-detail",
    "srt_detail_at_first_listing": "srt-publish/detail-at-first-listing",
    "srt_detail_after_1s": "srt-publish/detail-filled",
    "srt_detail_after_2s": "srt-publish/detail-filled",
    "srt_detail_after_6s": "srt-publish/detail-later",
    # :sendEvent to the recording's own live stream
    "40_sendEvent_scte35_out": "send-event/scte35-out-kept-break",
    "d05_sendEvent_scte35": "send-event/scte35-out-kept-break",
    "cue_10s_api": "send-event/scte35-out-kept-break",
    "sendEvent_scte35_refused": "send-event/scte35-out-kept-break",
    "cue_2s_api": "send-event/scte35-out-short-break",
    "41_sendEvent_scte35_in": "send-event/scte35-in",
    "45_sendEvent_unknown_format": "send-event/unknown-format",
    "47_sendEvent_id3v2": "send-event/id3v2",
    "sendEvent_id3v2_accepted": "send-event/id3v2",
    "48_sendEvent_cue": "send-event/cue",
    "sendEvent_cue_refused": "send-event/cue",
    "50_sendEvent_unknown_stream": "send-event/unknown-stream",
    "cue_10s_ome_log": "send-event/ome-log-kept-break",
    "cue_2s_ome_log": "send-event/ome-log-short-break",
    "cue_10s_chunklist_after_26s": "send-event/chunklist-after-kept-break",
    "cue_2s_chunklist_after_14s": "send-event/chunklist-after-short-break",
    # LL-HLS of a warm stream, and of a young one
    "llhls_master": "llhls-playlists/master",
    "llhls_video_chunklist": "llhls-playlists/chunklist",
    "llhls_blocking_reload": "llhls-playlists/blocking-reload",
    "llhls_blocking_reload_far_future": "llhls-playlists/far-future-reload",
    "llhls_part_headers": "llhls-playlists/part",
    "llhls_preload_hint": "llhls-playlists/preload-hint",
    "llhls_preload_hint_at_segment_end": "llhls-playlists/segment-end-chunklist",
    "llhls_blocking_reload_across_segment": "llhls-playlists/blocking-reload-across-segment",
    "llhls_warmup_timeline": "llhls-warmup/timeline",
    "llhls_chunklist_25fps": "llhls-25fps/chunklist",
    # WebRTC signalling
    "webrtc_signalling_offer": "webrtc-signalling/offer",
    "webrtc_signalling_unknown_stream": "webrtc-signalling/unknown-stream",
}
# The edge folder's files are all one procedure's (an edge before and after its first viewer).
EDGE_FOLDER = "edge"
# Subfolders that belong to their parent's recording (the media folders' layout).
MEDIA_SUBFOLDERS = ("playback", "edge")
_VERSION_IN_NAME = re.compile(r"v?(\d+\.\d+\.\d+)")
SUFFIXES = (".http", ".m3u8", ".txt", ".json")


def stem_of(path: Path) -> str:
    name = path.name
    while Path(name).suffix in SUFFIXES:
        name = name[: -len(Path(name).suffix)]
    return name


def key_of(path: Path, folder: Path) -> str | None:
    """The observation key of a hand-made file, or None when no procedure asks that question."""
    stem = stem_of(path)
    if path.parent.name == EDGE_FOLDER and path.parent != folder:
        return f"edge/{stem.removeprefix('edge_').replace('_', '-')}"
    return HANDMADE_KEYS.get(stem)


def handmade_files(folder: Path) -> list[Path]:
    """The folder's own captures, and those of its playback/ and edge/ (not docker/ or version folders)."""
    files = [
        p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix in SUFFIXES and p.name != "README.md"
    ]
    for sub in MEDIA_SUBFOLDERS:
        if (folder / sub).is_dir():
            files += [p for p in sorted((folder / sub).iterdir()) if p.is_file() and p.suffix in SUFFIXES]
    return files


def infer_version(folder: Path) -> tuple[str | None, str]:
    """The OME version of a folder without a manifest, and how it was inferred (said in reports)."""
    for place, how in (
        (folder, "its 00_version.http"),
        (folder.parent, "the parent folder's 00_version.http"),
    ):
        version = _version_file(place / "00_version.http")
        if version is not None:
            return version, f"inferred from {how}"
        match = _VERSION_IN_NAME.search(place.name)
        if match:
            where = "the folder name" if place == folder else "the parent folder's name"
            return match.group(1), f"inferred from {where} ({place.name})"
    return None, "unknown: no 00_version.http and no version in the folder's or its parent's name"


def _version_file(path: Path) -> str | None:
    if not path.is_file():
        return None
    body = path.read_text(errors="replace").rsplit("\n\n", 1)[-1]
    try:
        return str(json.loads(body)["response"]["version"])
    except (ValueError, KeyError, TypeError):
        return None
