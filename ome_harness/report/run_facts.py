"""What the run report knows besides the scenarios: the diagnosis made first, the target, the container log.

Gathered where the target is opened (the scenario plugin) as plain JSON data, so an xdist worker can
ship it to the controller with its first test report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ome_harness.checks.diagnosis import diagnose
from ome_harness.config import HarnessConfig
from ome_harness.container.errors import ContainerError, ContainerStartFailed
from ome_harness.redaction import describe_secret
from ome_harness.results import LogTail, TargetInfo
from ome_harness.target import OmeTarget

LOG_TAIL_LINES = 30


def session_facts(target: OmeTarget, cfg: HarnessConfig) -> dict[str, Any]:
    """Diagnose the target (read-only) and note how far this run may change it."""
    report = diagnose(target, domain=cfg.report.domain)
    facts = {"diagnosis": report.model_dump(mode="json"), "allow_mutating": bool(cfg.allow_mutating),
             "launched": target.launched, "log_path": target.extra.get("log_path")}
    if hasattr(target, "media_addresses"):
        # Where media went (or would have): a real deployment's addresses are configured, never guessed.
        facts["media_addresses"] = target.media_addresses().described()
    return facts


def launch_failure(exc: ContainerError, cfg: HarnessConfig) -> dict[str, Any]:
    """The facts of a container that never became a target: its error and what its log said."""
    target = TargetInfo(kind="container", api_url="-", key=describe_secret(None), image=cfg.container.image)
    facts: dict[str, Any] = {"launch_error": str(exc).splitlines()[0], "target": target.model_dump(mode="json"),
                             "launched": True, "allow_mutating": bool(cfg.allow_mutating)}
    if isinstance(exc, ContainerStartFailed) and (exc.log_tail or exc.log_path):
        facts["container_log"] = LogTail(lines=exc.log_tail, path=exc.log_path).model_dump(mode="json")
    return facts


def add_container_log(facts: dict[str, Any]) -> None:
    """After the session: the tail of the launched container's kept log (already masked when saved)."""
    path = facts.get("log_path")
    if not path or "container_log" in facts or not Path(path).is_file():
        return
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:]
    facts["container_log"] = LogTail(lines="\n".join(lines), path=str(path)).model_dump(mode="json")
