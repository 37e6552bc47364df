"""docs/load.md's distributed-mode files use the harness's locustfile and options that exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ome_harness.load.runner import LOCUSTFILE

REPO = Path(__file__).resolve().parent.parent
LOCUSTFILE_TEXT = LOCUSTFILE.read_text()


def locustfile_options() -> set[str]:
    return set(re.findall(r'add_argument\("(--[a-z-]+)"', LOCUSTFILE_TEXT))


def test_the_compose_file_runs_a_master_and_workers_of_the_harness_viewer() -> None:
    compose = yaml.safe_load((REPO / "docs/load/docker-compose.yml").read_text())["services"]
    assert "--master" in compose["master"]["command"] and "--worker" in compose["worker"]["command"]
    used = set(re.findall(r"--(?:stream-path|omh-summary|omh-run-time)", compose["master"]["command"]))
    assert used == {"--stream-path", "--omh-summary", "--omh-run-time"} <= locustfile_options()
    dockerfile = (REPO / "docs/load/Dockerfile").read_text()
    assert (
        "ome_harness/load/locustfile.py" in dockerfile and (REPO / "ome_harness/load/locustfile.py").is_file()
    )


def test_the_kubernetes_manifest_has_a_master_service_and_workers_pointing_at_it() -> None:
    documents = list(yaml.safe_load_all((REPO / "docs/load/kubernetes.yaml").read_text()))
    kinds = {d["kind"]: d for d in documents}
    assert set(kinds) == {"Service", "Job", "Deployment"}
    master_args = kinds["Job"]["spec"]["template"]["spec"]["containers"][0]["args"]
    worker_args = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--master" in master_args and "--worker" in worker_args
    assert worker_args[worker_args.index("--master-host") + 1] == kinds["Service"]["metadata"]["name"]
    assert {a for a in master_args if a in locustfile_options()} == {
        "--stream-path",
        "--omh-summary",
        "--omh-run-time",
    }
