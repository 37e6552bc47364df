"""Bad input is refused before any work: one line on stderr, exit 2, naming the option, file or line."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from ome_samples import TOKEN

from ome_harness import __version__
from ome_harness.emulator import EmulatorServer


def one_line_exit_2(run) -> str:  # noqa: ANN001
    assert run.code == 2, run.output
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.output, run.stderr
    assert run.stdout == "", "nothing may be reported for a refused input"
    return run.stderr


@pytest.mark.parametrize("command", ["diagnose", "run", "emulator"])
@pytest.mark.parametrize("url", ["ftp://ome.example:8081", "ome.example:8081"])
def test_a_bad_api_url_from_the_environment_is_refused_by_every_command(run_cli, command: str,
                                                                         url: str) -> None:
    stderr = one_line_exit_2(run_cli(command, env={"OMH_API__URL": url}))
    assert "OMH_API__URL" in stderr and "not an http(s) URL" in stderr


def test_a_bad_api_url_from_the_config_file_names_the_file(run_cli, tmp_path: Path) -> None:
    (tmp_path / "harness.yaml").write_text("api:\n  url: ftp://ome.example:8081\n")
    stderr = one_line_exit_2(run_cli("run"))
    assert "harness.yaml: key 'api.url'" in stderr


@pytest.mark.parametrize("args, words", [
    (["diagnose", "--emulator", "--api-url", "http://h:8081"], "--emulator and --api-url"),
    (["diagnose", "--emulator", "--token", "t"], "--emulator and --token"),
    (["diagnose", "--launch", "--api-url", "http://h:8081"], "--launch and --api-url"),
    (["run", "--target", "emulator", "--api-url", "http://h:8081"], "--target emulator and --api-url"),
    (["run", "--target", "container", "--api-url", "http://h:8081"], "--target container and --api-url"),
    (["run", "--target", "emulator", "--token", "t"], "--target emulator and --token"),
    # Found by the CLI audit: these were silently ignored (the run went on with the harness's own OME).
    (["diagnose", "--emulator", "--image", "x/y:1"], "--image goes with --launch"),
    (["diagnose", "--api-url", "http://h:8081", "--image", "x/y:1"], "--image goes with --launch"),
    (["diagnose", "--emulator", "--playback", "s", "--llhls-url", "http://h:3"], "--emulator and --llhls"),
    (["run", "--target", "emulator", "--image", "x/y:1"], "--image goes with --target container"),
    (["run", "--api-url", "http://h:8081", "--image", "x/y:1"], "--image goes with --target container"),
    (["run", "--target", "emulator", "--rtmp-url", "rtmp://h:1935"], "--rtmp-url is for --target url"),
    (["run", "--target", "container", "--llhls-url", "http://h:3333"], "--llhls-url is for --target url"),
    (["load", "--stream", "a/s", "--emulator", "--image", "x/y:1"], "--image goes with --launch"),
    (["load", "--stream", "a/s", "--launch", "--llhls-url", "http://h:3333"], "--launch and --llhls-url"),
])
def test_conflicting_options_are_refused(run_cli, args: list[str], words: str) -> None:
    assert words in one_line_exit_2(run_cli(*args))


def test_port_0_is_not_taken_for_port_80(run_cli) -> None:
    run = run_cli("diagnose", "--api-url", "http://127.0.0.1:0")
    assert "port 0 cannot be dialled" in one_line_exit_2(run)


def test_out_that_is_a_file_or_cannot_be_created_is_refused_before_any_check(run_cli, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    assert "is a file, not a folder" in one_line_exit_2(run_cli("diagnose", "--emulator", "--out", "taken"))
    assert "cannot create the folder" in one_line_exit_2(run_cli("run", "--out", "taken/sub"))


def test_broken_template_is_named_with_its_line_before_any_check(run_cli, tmp_path: Path) -> None:
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "connection-report.md.j2").write_text("# Report\n{{ report.status\nmore\n")
    stderr = one_line_exit_2(run_cli("diagnose", "--emulator", "--template-dir", str(folder)))
    assert "connection-report.md.j2, line " in stderr
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").rglob("connection-report.*"))


def test_template_that_fails_while_rendering_is_bad_input_not_an_internal_error(run_cli,
                                                                                 tmp_path: Path) -> None:
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "connection-report.md.j2").write_text("ok\n{{ report.no_such_field }}\n")
    with socket.socket() as target:
        target.bind(("127.0.0.1", 0))
        target.listen(8)
        url = f"http://127.0.0.1:{target.getsockname()[1]}"
        stderr = one_line_exit_2(run_cli("diagnose", "--api-url", url, "--template-dir", str(folder)))
        # Found by rendering a sample report before any work: the target was never contacted.
        target.setblocking(False)
        with pytest.raises(BlockingIOError):
            target.accept()
    assert "connection-report.md.j2, line 2" in stderr and "internal error" not in stderr


def test_binary_config_file_is_named_with_its_line(run_cli, tmp_path: Path) -> None:
    (tmp_path / "bin.yaml").write_bytes(b"api:\n  url: http://h:1\n\xff\xfe\x00\x01")
    stderr = one_line_exit_2(run_cli("diagnose", "--config", "bin.yaml"))
    assert "bin.yaml: not a text (UTF-8) YAML file" in stderr and "line 3" in stderr


def test_unknown_ome_version_is_refused(run_cli) -> None:
    stderr = one_line_exit_2(run_cli("emulator", "--ome-version", "banana"))
    assert "emulator.version" in stderr and "banana" in stderr


def test_emulator_refuses_an_empty_access_token_like_ome(run_cli) -> None:
    stderr = one_line_exit_2(run_cli("emulator", "--token", ""))
    assert "OME refuses to start without an access token" in stderr
    with pytest.raises(ValueError, match="empty one"):
        from ome_harness.emulator import EmulatorSettings
        EmulatorServer(EmulatorSettings(token=""))


def test_version_flag(run_cli) -> None:
    run = run_cli("--version")
    assert run.code == 0 and run.stdout.strip() == f"ome-harness {__version__}"


def test_api_url_without_target_tests_that_url_not_the_emulator(run_cli, tmp_path: Path,
                                                                closed_port: int) -> None:
    # With the emulator silently standing in, this would pass; the URL has nothing behind it.
    for args, env in ((["--api-url", f"http://127.0.0.1:{closed_port}"], {}),
                      ([], {"OMH_API__URL": f"http://127.0.0.1:{closed_port}"})):
        run = run_cli("run", *args, "-k", "names_its_version", "--out", "o", env=env)
        assert run.code == 1, run.output
        data = json.loads((tmp_path / "o" / "results.json").read_text())
        assert data["target"]["kind"] == "url" and data["counts"]["ERROR"] >= 1


def test_report_folder_from_the_environment_is_used_and_printed_absolute(
        run_cli, tmp_path: Path, emulator: EmulatorServer) -> None:
    env = {"OMH_REPORT__OUT": "ci-reports"}
    run = run_cli("diagnose", "--api-url", emulator.url, "--token", TOKEN, env=env)
    assert run.code == 0, run.output
    assert run.stdout.strip().splitlines()[-1] == str(tmp_path / "ci-reports" / "connection-report.md")
    run = run_cli("run", "--target", "emulator", "-k", "names_its_version", env=env)
    assert run.code == 0, run.output
    assert run.stdout.strip().splitlines()[-1] == str(tmp_path / "ci-reports" / "test-report.md")
    assert (tmp_path / "ci-reports" / "results.json").is_file()


# Found by an adversarial pass over the CLI: each used to end in exit 3 ("a bug of ome-harness"), a boxed
# multi-line usage error, or a line that misnamed the problem.
DEEP_YAML = "api: " + "[" * 100_000 + "]" * 100_000 + "\n"
TOO_LONG = "a" * 300  # one path component longer than any Linux file system takes (ENAMETOOLONG)
ENV_SECRET = "Env-Secret-in-bad-json-3f9a"


@pytest.mark.parametrize("args, env, says", [
    (["diagnose", "--config", "deep.yaml"], {}, "deep.yaml: not valid YAML: nested too deeply"),
    (["diagnose", "--targets", "deep.yaml"], {}, "deep.yaml: not valid YAML: nested too deeply"),
    (["emulator"], {"OMH_EMULATOR__HOSTS": "127.0.0.1"}, "environment (OMH_EMULATOR__HOSTS): a list or"),
    (["down"], {"OMH_CONTAINER__LABELS": "{bad"}, "environment (OMH_CONTAINER__LABELS): a list or"),
    (["diagnose"], {"OMH_API": '{"token": "' + ENV_SECRET}, "environment (OMH_API): a list or mapping"),
    (["diagnose", "--config", TOO_LONG], {}, "--config aaaa"),
    (["diagnose", "--targets", TOO_LONG], {}, "--targets aaaa"),
    (["diagnose", "--server-xml", TOO_LONG], {}, "--server-xml aaaa"),
    (["diagnose", "--env-file", TOO_LONG], {}, "--env-file aaaa"),
    (["diagnose", "--template-dir", TOO_LONG], {}, "--template-dir aaaa"),
    (["diagnose", "--api-url", "http://127.0.0.1:1", "--out", TOO_LONG], {}, "--out aaaa"),
    (["run", "--features", TOO_LONG], {}, "--features aaaa"),
    (["run", "--out", TOO_LONG], {}, "--out aaaa"),
    (["load", "--stream", "app/s", "--emulator", "--out", TOO_LONG], {}, "--out aaaa"),
    (["diagnose", "--config", "folder"], {}, "--config folder: is a folder, not a file"),
    (["diagnose", "--targets", "folder"], {}, "--targets folder: is a folder, not a file"),
    (["diagnose", "--targets", "/dev/null"], {}, "--targets /dev/null: not a regular file"),
    (["run", "--config", "/dev/null"], {}, "--config /dev/null: not a regular file"),
    # Click's own refusals (a value of the wrong type, an unknown option or command): one line, not a box.
    (["diagnose", "--targets", "t.yaml", "--concurrency", "abc"], {}, "Invalid value for '--concurrency'"),
    (["emulator", "--port", "abc"], {}, "Invalid value for '--port'"),
    (["load", "--stream", "app/s", "--viewers", "many"], {}, "Invalid value for '--viewers'"),
    (["run", "--bogus"], {}, "No such option: --bogus"),
    (["logs", "a", "b"], {}, "unexpected extra argument"),
    (["diagnos"], {}, "No such command 'diagnos'"),
    (["--bogus"], {}, "No such option: --bogus"),
    # An empty folder (an unset variable in `--out "$DIR"`) used to mean the current folder.
    (["diagnose", "--emulator", "--out", ""], {}, "Invalid value for '--out': empty: name a folder"),
    (["run", "--out", " "], {}, "Invalid value for '--out': empty: name a folder"),
    (["load", "--stream", "app/s", "--out", ""], {}, "Invalid value for '--out': empty: name a folder"),
    (["diagnose", "--emulator"], {"OMH_REPORT__OUT": ""}, "key 'report.out': empty: name a folder"),
    (["emulator", "--server-xml", "bigport.xml"], {}, "bigport.xml: the API port 99999999999 is not a port"),
    (["run", "--api-url", "http://[::1"], {}, "is not an http(s) URL with a host"),
    (["diagnose"], {"OMH_API__URL": "http://[::1"}, "is not an http(s) URL with a host"),
    # A line break in a name the report shows would put raw lines into its Markdown.
    (["diagnose", "--emulator", "--domain", "ok\n# Not OK"], {}, "no line break or control character"),
])
def test_hostile_input_is_one_line_exit_2(run_cli, tmp_path: Path, args: list[str], env: dict[str, str],
                                           says: str) -> None:
    (tmp_path / "deep.yaml").write_text(DEEP_YAML)
    (tmp_path / "folder").mkdir()
    (tmp_path / "bigport.xml").write_text(
        "<Server><Bind><Managers><API><Port>99999999999</Port></API></Managers></Bind>"
        "<Managers><API><AccessToken>t</AccessToken></API></Managers></Server>")
    stderr = one_line_exit_2(run_cli(*args, env=env))
    assert says in stderr and "internal error" not in stderr
    assert ENV_SECRET not in stderr and len(stderr) < 1000, stderr


def test_the_command_alone_prints_the_help(run_cli) -> None:
    """Click's refusals are caught to make them one line: its no-arguments help must still come through."""
    run = run_cli()
    assert run.code == 2 and "Usage:" in run.stdout and "diagnose" in run.stdout, run.output


@pytest.mark.parametrize("args, env, says", [
    # A bad flag was blamed on whatever OMH_* variables happened to be set.
    (["up", "--ready-timeout", "-1"], {"OMH_CONTAINER__PULL": "false"},
     "command-line flags: key 'container.ready_timeout'"),
    (["diagnose"], {"OMH_API__CONNECT_TIMEOUT": "0", "OMH_REPORT__OUT": "o"},
     "environment (OMH_API__CONNECT_TIMEOUT) or flags: key 'api.connect_timeout'"),
    (["load", "--stream", "a/s", "--emulator"], {"OMH_API": '{"vhost": 5}', "OMH_TARGET": "url"},
     "environment (OMH_API) or flags: key 'api.vhost'"),
])
def test_a_bad_value_names_where_it_came_from(run_cli, args: list[str], env: dict[str, str],
                                              says: str) -> None:
    stderr = one_line_exit_2(run_cli(*args, env=env))
    assert says in stderr and not any(f"{name}," in stderr or f"{name})" in stderr
                                      for name in env if name not in says), stderr
