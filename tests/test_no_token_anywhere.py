"""Every command run with one recognisable token: neither it nor its base64 form is printed or written.

`down` runs last, on a container `up --detach` left with the token: it removes leftovers of any
run (it takes no label to scope it), which is safe here because the Docker tests run one at a time
(the xdist group "docker", conftest.py) and `down` keeps containers whose launcher still runs.
"""

from __future__ import annotations

import base64
import json
import signal
import socket
from pathlib import Path

import httpx

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.polling import Ready, poll_until
from ome_harness.scenarios.container_launch import TOKEN_IN_OME_LOG

pytest_plugins = ["container_fixtures"]

TOKEN = "Recognisable-T0ken-4e7b9"
NEEDLES = (TOKEN, base64.b64encode(TOKEN.encode()).decode())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> Ready[bool] | str:
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError as exc:
        return str(exc)
    return Ready(True)


def foreground(cli_process, args: list[str], ready_url: str, env: dict[str, str]) -> str:
    """A serving command until it answers, then Ctrl-C; everything it printed."""
    proc = cli_process(*args, env=env)
    try:
        poll_until(lambda: answers(ready_url), deadline_s=60, what=f"`{args[0]}` to serve")
    finally:
        proc.proc.send_signal(signal.SIGINT)
        code, stderr = proc.finish()
    stdout = "".join(proc.seen) + "".join(
        iter(lambda: proc.lines.get() if not proc.lines.empty() else "", "")
    )
    assert code in (0, 130), stderr
    return stdout + stderr


def test_no_command_prints_or_writes_the_token(run_cli, cli_process, tmp_path: Path, standin_image: str,
                                               test_id: str) -> None:
    out: list[str] = []
    env = {"FLEET_TOKEN": TOKEN, "OMH_REPORT__OUT": str(tmp_path / "reports"),
           "OMH_CONTAINER__LABELS": json.dumps({"ome-harness-test.id": test_id})}
    settings = EmulatorSettings(token=TOKEN, rtmp_port=None, srt_port=None, llhls_port=None)
    with EmulatorServer(settings) as ome:
        # diagnose, with the token on the command line and in a wrong-token variant
        for token in (TOKEN, TOKEN + "-wrong"):
            run = run_cli("diagnose", "--api-url", ome.url, "--token", token, "--out", str(tmp_path / "diag"))
            out.append(run.output)
        # the fleet: token by reference
        targets = tmp_path / "targets.yaml"
        targets.write_text(
            f'targets:\n  - {{name: a, api_url: "{ome.url}", token_env: FLEET_TOKEN}}\n'
            f'  - {{name: b, api_url: "http://127.0.0.1:{free_port()}", token_env: FLEET_TOKEN}}\n'
        )
        out.append(
            run_cli("diagnose", "--targets", str(targets), "--out", str(tmp_path / "fleet"), env=env).output
        )
        # run: a few scenarios against the same emulator
        run = run_cli("run", "--target", "url", "--api-url", ome.url, "--token", TOKEN, "-k", "token",
                      "--out", str(tmp_path / "run"), env=env, timeout=300)
        assert run.code in (0, 1), run.output
        out.append(run.output)
        # backend, in the foreground against the emulator
        port = free_port()
        out.append(
            foreground(
                cli_process,
                [
                    "backend",
                    "--port",
                    str(port),
                    "--token",
                    TOKEN,
                    "--ome-url",
                    ome.url,
                    "--ome-token",
                    TOKEN,
                    "--db",
                    f"sqlite:///{tmp_path / 'b.db'}",
                ],
                f"http://127.0.0.1:{port}/",
                env,
            )
        )
    # the emulator, in the foreground, on free ports only (OME's defaults may be taken)
    api, rtmp, llhls, srt = (free_port() for _ in range(4))
    out.append(
        foreground(
            cli_process,
            [
                "emulator",
                "--host",
                "127.0.0.1",
                "--port",
                str(api),
                "--token",
                TOKEN,
                "--rtmp-port",
                str(rtmp),
                "--llhls-port",
                str(llhls),
                "--srt-port",
                str(srt),
            ],
            f"http://127.0.0.1:{api}/v1/version",
            env,
        )
    )
    # up (a token the user gave), logs while it runs, Ctrl-C removes it
    up = cli_process("up", "--image", standin_image, "--token", TOKEN, env=env)
    try:
        name = up.wait_for_line("OME is ready").split("container ")[1].split(",")[0]
        up.wait_for_line("Use it:")
        out.append(run_cli("logs", name, env=env).output)
    finally:
        up.proc.send_signal(signal.SIGINT)
        code, stderr = up.finish()
    out.append("".join(up.seen) + stderr)
    assert code == 0, stderr
    # up --detach leaves a container behind; down removes it and keeps its log. Its token is a word OME
    # writes in its start-up line, so the kept log would show it unless down masks it.
    detached = run_cli("up", "--detach", "--image", standin_image, "--token", TOKEN_IN_OME_LOG, env=env)
    assert detached.code == 0, detached.output
    down = run_cli("down", env=env)
    assert down.code == 0 and "; log kept in " in down.stdout, down.output
    kept = Path(down.stdout.split("; log kept in ")[1].split()[0])
    for text in (detached.output, down.output, kept.read_text()):
        assert TOKEN_IN_OME_LOG not in text, "down shows or keeps the token"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".db"]
    assert any(p.name == "fleet-report.md" for p in written) and any(p.suffix == ".log" for p in written)
    assert any(p.suffix == ".log" and p.parent.name == "containers" for p in written), "down kept no log"
    for text, where in [
        *((o, "terminal") for o in out),
        *((p.read_text(errors="replace"), str(p)) for p in written),
    ]:
        for needle in NEEDLES:
            assert needle not in text, f"the token appears in {where}"

