"""`load` against a launched stand-in container: the harness publishes, loads, and removes it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ome_harness.config import HarnessConfig
from ome_harness.load.session import run_load
from ome_harness.load.settings import LoadSettings
from ome_harness.target.container import container_target

pytest_plugins = ["container_fixtures", "media_fixtures", "load_fixtures"]


def test_a_launched_container_is_published_to_loaded_and_removed(
    container_cfg: HarnessConfig,
    test_containers: Callable[[], list],
    ffmpeg: str,
    locust_installed: None,
    tmp_path: Path,
) -> None:
    settings = LoadSettings(stream="app/stream", viewers=3, spawn_rate=3, duration_s=8)
    with container_target(container_cfg) as target:
        outcome = run_load(target, settings, tmp_path)
    assert outcome.verdict.passed, outcome.verdict.reasons
    assert outcome.result.kinds["part"].requests > 0
    report = (tmp_path / "load-report.md").read_text()
    assert "container (launched by the harness)" in report and "not a real OvenMediaEngine" in report
    assert not test_containers(), "the launched container outlived the run"
