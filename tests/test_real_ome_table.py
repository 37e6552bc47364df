"""docs/real-ome.md's table of behaviours that differ by version, checked cell by cell against the emulator.

Each row id has a checker here that answers the cell's words for a version; a row without one fails,
so the table cannot claim what nobody checks. Add a checker with a new row.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from media_support import TOKEN
from ome_samples import SAMPLES, require_samples

from ome_harness.container.server_xml_render import render_server_xml
from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.emulator.api import OME_LOG_PATH
from ome_harness.media.encoder import FfmpegEncoder
from ome_harness.ome.client import auth_header
from ome_harness.polling import Ready, poll_until
from ome_harness.recording.table import NOT_RECORDED, table_markdown
from ome_harness.scte35.insertion import available_paths, splice_insert_body
from ome_harness.testing import require

DOC = Path(__file__).resolve().parent.parent / "docs" / "real-ome.md"
HEADING = "## Behaviours that differ by version"
VERSION_COLUMN = re.compile(r"^v\d+\.\d+\.\d+$")
SEGMENT_S = 6.0  # OME's default, as in the captures


def read_table(text: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """(version columns, {row id: {version: cell}}) of the first table under HEADING."""
    section = text.split(HEADING, 1)[1]
    lines = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, body = rows[0], [r for r in rows[1:] if not set("".join(r)) <= set("-: ")]
    versions = [h for h in header if VERSION_COLUMN.match(h)]
    table = {row[0]: {h: row[i] for i, h in enumerate(header) if h in versions} for row in body}
    return versions, table


def _post_event(server: EmulatorServer, body: dict) -> int:
    answer = httpx.post(
        f"{server.url}/v1/vhosts/default/apps/app/streams/sim:sendEvent",
        json=body,
        timeout=5,
        headers={"Authorization": auth_header(TOKEN)},
    )
    return answer.status_code


def _ome_log(server: EmulatorServer) -> str:
    return httpx.get(
        f"{server.url}{OME_LOG_PATH}", headers={"Authorization": auth_header(TOKEN)}, timeout=5
    ).text


def _scte35_cue_out(break_ms: int) -> Callable[[EmulatorServer], str]:
    def check(server: EmulatorServer) -> str:
        status = _post_event(server, splice_insert_body(7, duration_s=break_ms / 1000))
        if status != 200:
            return str(status)
        # The emulator applies the cut in its LL-HLS packager (test_media_scte35 checks the layout);
        # which of the two it did is in what OME would have logged.
        log = _ome_log(server)
        return "200 dropped" if "Duration of the marker must be greater than" in log else "200 cut"
    return check


def _status_of(body: dict) -> Callable[[EmulatorServer], str]:
    return lambda server: str(_post_event(server, body))


def _stream_detail(server: EmulatorServer, name: str) -> dict[str, Any] | None:
    answer = httpx.get(f"{server.url}/v1/vhosts/default/apps/app/streams/{name}", timeout=5,
                       headers={"Authorization": auth_header(TOKEN)})
    return answer.json()["response"] if answer.status_code == 200 else None


@cache
def _srt_warm_up(version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A real ffmpeg SRT publish into the emulator of `version`: the detail at first listing and once
    filled."""
    require(_ffmpeg_has_srt(), "ffmpeg with SRT support (Debian's ffmpeg) is needed for the srt-* rows")
    settings = EmulatorSettings(
        hosts=("127.0.0.1",), token=TOKEN, version=version.lstrip("v"), rtmp_port=None, llhls_port=None
    )
    with EmulatorServer(settings) as server, \
            FfmpegEncoder(f"{server.target_addresses()['srt_base']}?streamid=default/app/table"):
        first = poll_until(
            lambda: Ready(d) if (d := _stream_detail(server, "table")) else None,
            deadline_s=10,
            what="the SRT stream to be listed",
        )
        filled = poll_until(lambda: Ready(d) if (d := _stream_detail(server, "table")) and _zeroes(d) == []
                            else None, deadline_s=8, what="the SRT tracks to fill")
    return first, filled


@cache
def _ffmpeg_has_srt() -> bool:
    try:
        listed = subprocess.run(
            ["ffmpeg", "-hide_banner", "-protocols"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return " srt" in listed.stdout.replace("\n", " ")


def _tracks(stream: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["type"]: t for t in stream["input"]["tracks"]}


def _zeroes(stream: dict[str, Any]) -> list[str]:
    """The warm-up figures still at zero, in the table's order."""
    tracks = _tracks(stream)
    video, audio = tracks["Video"]["video"], tracks["Audio"]["audio"]
    figures = {
        "framerate": video["framerate"],
        "samplerate": audio["samplerate"],
        "channel": audio["channel"],
        "width": video["width"],
        "height": video["height"],
    }
    return [name for name, value in figures.items() if not value]


def _srt_first_listing(server: EmulatorServer) -> str:
    return " ".join(_zeroes(_srt_warm_up(str(server.state.version))[0])) + " 0"


def _srt_tracks_filled(server: EmulatorServer) -> str:
    return "filled" if not _zeroes(_srt_warm_up(str(server.state.version))[1]) else "still 0"


def _srt_data_track(server: EmulatorServer) -> str:
    first = _srt_warm_up(str(server.state.version))[0]
    data = first["input"]["tracks"][0]
    if data["type"] != "Data":
        return f"{data['type']} first"
    codec = (data.get("data") or {}).get("codec")
    return "Data" + (f" codec {codec}" if codec else "")


def _srt_source_url(server: EmulatorServer) -> str:
    url = _srt_warm_up(str(server.state.version))[0]["input"]["sourceUrl"]
    return re.sub(r"^SRT://[\d.]+:\d+", "SRT://IP:PORT", url)


def _empty_access_token(server: EmulatorServer, tmp: Path) -> str:
    """The stand-in image's start-up script, run as a process with an empty token (as the image runs it)."""
    conf = tmp / "origin_conf"
    conf.mkdir()
    # The Server.xml the launcher generates (API bind enabled), with the token left empty.
    (conf / "Server.xml").write_text(
        render_server_xml(access_token="", vhost="default", app="app", run_id="table")
    )
    script = DOC.parent.parent / "docker" / "emulator" / "OvenMediaEngine"
    ran = subprocess.run([sys.executable, str(script), "-c", str(conf)], capture_output=True, text=True,
                         timeout=30)
    logged = "Empty <AccessToken> is not allowed" in ran.stdout + ran.stderr
    return f"exit {ran.returncode}" + (" logged" if logged else "")


CHECKERS: dict[str, Callable[[EmulatorServer], str]] = {
    "scte35-api-kept-break": _scte35_cue_out(10_000),
    "scte35-api-short-break": _scte35_cue_out(2_000),
    "cue-api": _status_of({"eventFormat": "cue", "events": [{"cueType": "out", "duration": 60500}]}),
    "id3v2-api": _status_of({"eventFormat": "id3v2", "eventType": "video",
                             "events": [{"frameType": "TXXX", "info": "harness", "data": "t=1"}]}),
    # No SRT ingest in the emulator yet: the harness's model is what is checked (no in-band path anywhere).
    "scte35-inband": lambda server: "ignored" if "in-band" not in available_paths(str(server.state.version))
    else "applied",
    "srt-first-listing": _srt_first_listing,
    "srt-tracks-filled": _srt_tracks_filled,
    "srt-data-track": _srt_data_track,
    "srt-source-url": _srt_source_url,
    "empty-access-token": lambda server: _empty_access_token(server, _TMP[0]),
}
_TMP: list[Path] = []

VERSIONS, TABLE = read_table(DOC.read_text())


def test_the_table_names_the_versions_verified_and_every_row_has_a_checker():
    assert VERSIONS == ["v0.20.0", "v0.21.0"]
    assert {"scte35-api-kept-break", "scte35-api-short-break", "scte35-inband"} <= set(TABLE)
    unchecked = sorted(set(TABLE) - set(CHECKERS))
    assert not unchecked, f"rows of docs/real-ome.md without a checker in {Path(__file__).name}: {unchecked}"


def _doc_table(text: str) -> str:
    """The doc's table as written: the first run of `|` lines under HEADING."""
    lines = text.split(HEADING, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end]) + "\n"


def test_the_table_is_the_one_the_recordings_give():
    require_samples()
    assert _doc_table(DOC.read_text()) == table_markdown(SAMPLES), (
        "docs/real-ome.md's table is not what the recordings give: "
        "run `python -m ome_harness.recording.table` and paste its output"
    )


def _samples_copy(tmp_path: Path) -> Path:
    """A writable copy of the samples folder (the shared one is read-only)."""
    import shutil

    require_samples()
    copy = tmp_path / "samples"
    shutil.copytree(SAMPLES, copy, copy_function=shutil.copyfile,
                    ignore=lambda folder, names: [n for n in names if n.endswith(".md")])
    for path in [copy, *copy.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return copy


def _row(table: str, row_id: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| {row_id} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_recording_wins_over_a_stated_fact_and_a_missing_one_says_not_recorded(tmp_path):
    samples = _samples_copy(tmp_path)
    v021 = samples / "v0.21.0-media"
    # A v0.21.0 recording of a short break that OME took (no such capture exists: made up for the test).
    (v021 / "cue_2s_api.http").write_text((v021 / "sendEvent_id3v2_accepted.http").read_text())
    (v021 / "sendEvent_cue_refused.http").unlink()  # no recording of `cue` on v0.21.0 any more
    table = table_markdown(samples)
    short = _row(table, "scte35-api-short-break")
    assert short[3] == "200" and "v0.21.0: `v0.21.0-media/cue_2s_api.http`" in short[4], short
    cue = _row(table, "cue-api")
    assert cue[3] == NOT_RECORDED and "v0.21.0: not recorded" in cue[4], cue
    assert _row(table, "cue-api")[2] == "200"  # v0.20.0 unchanged


def test_a_recording_that_changes_makes_the_table_change(tmp_path):
    samples = _samples_copy(tmp_path)
    log = samples / "v0.20.0-media" / "cue_2s_ome_log.txt"
    kept = [line for line in log.read_text().splitlines() if "Duration of the marker" not in line]
    log.write_text("\n".join(kept))
    # Without the log's "dropped" line the row falls to the chunklist after the short break: no cut.
    assert _row(table_markdown(samples), "scte35-api-short-break")[2] == "200 no cut"


@pytest.mark.parametrize(("row", "version"), [(r, v) for r in TABLE for v in VERSIONS
                                              if TABLE[r][v] != NOT_RECORDED])
def test_the_emulator_does_what_the_table_says_the_real_version_does(row, version, tmp_path):
    _TMP[:] = [tmp_path]
    settings = EmulatorSettings(
        hosts=("127.0.0.1",),
        token=TOKEN,
        version=version.lstrip("v"),
        rtmp_port=None,
        llhls_port=None,
        llhls_segment_s=SEGMENT_S,
    )
    with EmulatorServer(settings) as server:
        server.state.add_stream("sim")
        assert CHECKERS[row](server) == TABLE[row][version], f"{row} on {version}"


def test_the_table_printer_prints_the_table_and_refuses_a_missing_folder_in_one_line(tmp_path):
    require_samples()
    printed = subprocess.run([sys.executable, "-m", "ome_harness.recording.table", str(SAMPLES)],
                             capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0 and printed.stdout == table_markdown(SAMPLES), printed.stderr
    missing = subprocess.run([sys.executable, "-m", "ome_harness.recording.table", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr
