"""Time from launch() to ready against what the engine itself needs for the same container.

Baseline: the same image, ports and mounted Server.xml started with one `containers.run` call on
the Docker SDK, then GET /v1/version polled every 10 ms until it answers — no pull check, labels,
rendering or backoff. A second baseline uses the `docker run` CLI the way a person would. Rounds
alternate (harness, baseline, CLI) so drift hits all three alike. Prints medians and the ratio.

    python bench/container_ready.py [--image IMAGE] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from ome_harness import __version__
from ome_harness.config import HarnessConfig
from ome_harness.container import labels as lbl
from ome_harness.container.docker_engine import connect_engine
from ome_harness.container.launcher import OME_CONFIG_PATH, PUBLISHED, OmeContainer
from ome_harness.container.server_xml_render import render_server_xml
from ome_harness.ome.client import auth_header

TOKEN = "bench-token-0123456789"


def baseline_labels() -> dict[str, str]:
    """Owner, run id and launcher: a bench killed mid-round leaves containers `ome-harness down` finds."""
    return {lbl.OWNER_LABEL: lbl.OWNER, lbl.RUN_ID_LABEL: f"bench-{lbl.new_run_id()}",
            lbl.LAUNCHER_LABEL: lbl.launcher_identity(), lbl.IMAGE_LABEL: "bench baseline"}


def harness_round(cfg: HarnessConfig) -> float:
    launcher = OmeContainer(cfg)
    started = time.perf_counter()
    try:
        launcher.start()
        return time.perf_counter() - started
    finally:
        launcher.remove()


def _first_answer(url: str, deadline: float = 60.0) -> None:
    headers = {"Authorization": auth_header(TOKEN)}
    end = time.perf_counter() + deadline
    with httpx.Client(timeout=1.0, trust_env=False) as http:
        while time.perf_counter() < end:
            try:
                if http.get(f"{url}/v1/version", headers=headers).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
    raise RuntimeError(f"{url} never answered")


def sdk_round(client, image: str, server_xml: Path) -> float:
    ports = {spec: ("127.0.0.1", None) for spec in PUBLISHED.values()}
    started = time.perf_counter()
    container = client.containers.run(image, detach=True, ports=ports, labels=baseline_labels(),
                                      volumes={str(server_xml): {"bind": OME_CONFIG_PATH, "mode": "ro"}})
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8081/tcp"][0]["HostPort"]
        _first_answer(f"http://127.0.0.1:{port}")
        return time.perf_counter() - started
    finally:
        container.remove(force=True)


def cli_round(image: str, server_xml: Path) -> float:
    publish = [arg for spec in PUBLISHED.values() for arg in ("-p", f"127.0.0.1::{spec}")]
    labels = [arg for key, value in baseline_labels().items() for arg in ("--label", f"{key}={value}")]
    started = time.perf_counter()
    cid = subprocess.run(
        ["docker", "run", "-d", *publish, *labels, "-v", f"{server_xml}:{OME_CONFIG_PATH}:ro", image],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    try:
        port = subprocess.run(["docker", "port", cid, "8081/tcp"], check=True, capture_output=True, text=True,
                              timeout=30).stdout.split(":")[-1].strip()
        _first_answer(f"http://127.0.0.1:{port}")
        return time.perf_counter() - started
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=f"ome-harness/ome-standin:{__version__}")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    client = connect_engine()
    with tempfile.TemporaryDirectory(prefix="ome-harness-bench-") as tmp:
        server_xml = Path(tmp) / "Server.xml"
        server_xml.write_text(
            render_server_xml(access_token=TOKEN, vhost="default", app="app", run_id="bench")
        )
        server_xml.chmod(0o644)
        cfg = HarnessConfig(container={"image": args.image, "token": TOKEN, "keep_logs": False},
                            report={"out": tmp})
        sdk_round(client, args.image, server_xml)  # warm-up: page cache, image layers
        times: dict[str, list[float]] = {
            "harness launch() to ready": [],
            "engine baseline (SDK run + poll 10 ms)": [],
            "docker run CLI + poll 10 ms": [],
        }
        for _ in range(args.rounds):
            times["harness launch() to ready"].append(harness_round(cfg))
            times["engine baseline (SDK run + poll 10 ms)"].append(sdk_round(client, args.image, server_xml))
            times["docker run CLI + poll 10 ms"].append(cli_round(args.image, server_xml))
    print(f"image {args.image}, {args.rounds} rounds (seconds: median, min, max)")
    for name, values in times.items():
        print(f"  {name:<40} {statistics.median(values):6.3f}  {min(values):6.3f}  {max(values):6.3f}")
    harness = statistics.median(times["harness launch() to ready"])
    baseline = statistics.median(times["engine baseline (SDK run + poll 10 ms)"])
    cli = statistics.median(times["docker run CLI + poll 10 ms"])
    print(
        f"ratio harness / engine baseline: {harness / baseline:.2f}   harness / docker run CLI: "
        f"{harness / cli:.2f}"
    )


if __name__ == "__main__":
    main()
