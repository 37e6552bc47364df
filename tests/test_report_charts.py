"""The report's charts: drawn from the data a scenario kept, written beside the report, inlined in the HTML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ome_harness.report.render import write_report
from ome_harness.report.run_report import run_report
from ome_harness.results import CheckResult, ScenarioRun, Status, TargetInfo

SVG = "{http://www.w3.org/2000/svg}"


def _report_with(charts: dict) -> object:
    run = ScenarioRun(feature="Stream stats while publishing", scenario="Stats follow a live publish",
                      tags=["media"], charts=charts)
    result = CheckResult(id="steps/test_media_metrics.py::test_stats", title="t", status=Status.OK,
                         summary="passed", kind="scenario", scenario=run)
    return run_report([result], {"target": TargetInfo(api_url="http://127.0.0.1:1", key="-").model_dump()})


def test_the_bitrate_chart_is_written_linked_and_inlined(tmp_path: Path) -> None:
    report = _report_with({"bitrate": {"points": [[1, 604.4], [2, 578.5], [3, 572.2]], "configured_kbps": 564}})
    files = write_report(report, tmp_path, secrets=[])
    svg = ET.parse(files["chart-bitrate"]).getroot()
    assert svg.tag == f"{SVG}svg" or svg.tag == "svg"
    texts = "".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    assert "measured" in texts and "configured" in texts
    assert "![chart-bitrate.svg](chart-bitrate.svg)" in files["markdown"].read_text()
    html = files["html"].read_text()
    assert html.count("<svg") == 1 and "configured rate (dashed)" in html


def test_the_cue_timeline_marks_the_cue_and_the_cuts(tmp_path: Path) -> None:
    data = {"renditions": [{"name": "video", "segments": [[0.0, 0.3], [0.3, 2.0], [2.3, 2.0]]}],
            "cue_at": 0.185, "cuts": [0.3], "duration_s": 2}
    files = write_report(_report_with({"cue_timeline": data}), tmp_path, secrets=[])
    svg = files["chart-cue-timeline"].read_text()
    assert "cue" in svg and "cuts" in svg and "video" in svg
    assert "chart-bitrate" not in files  # no data, no file


def test_a_report_without_measurements_has_no_charts(tmp_path: Path) -> None:
    files = write_report(_report_with({}), tmp_path, secrets=[])
    assert not [name for name in files if name.startswith("chart-")]
    assert "### Charts" not in files["markdown"].read_text()
