"""Bad `--targets` files: one line naming the problem, exit 2, nothing contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from ome_harness.config import ConfigError
from ome_harness.fleet.targets import MAX_TARGETS, load_targets

SECRET = "clear-text-token-5b1e"
GOOD = '  - {name: a, api_url: "http://127.0.0.1:8081", token_env: OMH_TEST_TOKEN}\n'


def load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_targets(path)
    message = str(caught.value)
    assert "\n" not in message and SECRET not in message
    return message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("targets: [a, b\n", "not valid YAML (line 2)"),
        ("just a string\n", "expected a mapping with a `targets:` list"),
        ("targets: 5\n", "targets: Input should be a valid list"),
        ("targets: []\n", "targets: List should have at least 1 item"),
        (
            "targets:\n  - {name: a, api_url: 8081}\n",
            "target 'a' field api_url: Input should be a valid string",
        ),
        (
            "targets:\n  - {name: a, api_url: 'ftp://x'}\n",
            "target 'a' field api_url: API URL 'ftp://x' is not an http(s) URL",
        ),
        (
            "targets:\n  - {name: a, api_url: 'http://x:99999'}\n",
            "target 'a' field api_url: API URL 'http://x:99999' has an invalid host or port",
        ),
        ("targets:\n  - {name: a, api_url: 'http://x:8081/v1'}\n", "must be the server root"),
        (f"targets:\n  - {{name: a, api_url: 'http://u:{SECRET}@x:8081'}}\n", "credentials in the URL"),
        (
            "targets:\n  - {name: a, api_url: 'http://x:8081', role: relay}\n",
            "target 'a' field role: Input should be",
        ),
        (
            "targets:\n  - {name: a, api_url: 'http://x:8081', colour: red}\n",
            "target 'a' field colour: unknown key",
        ),
        ("targetz:\n" + GOOD, "targetz: unknown key"),
        ("targets:\n" + GOOD * 2, "duplicate target name 'a'"),
        (
            'targets:\n  - {name: "a\\n| b |", api_url: "http://x:8081"}\n',
            "field name: one line of text: no line break or control character",
        ),
        (
            'targets:\n  - {name: a, api_url: "http://x:8081", region: "eu\\tx"}\n',
            "field region: one line of text",
        ),
        ("targets:\n  - {name: e, api_url: 'http://x:8081', role: edge}\n", "an edge needs `origin:`"),
        (
            "targets:\n  - {name: e, api_url: 'http://x:8081', role: edge, origin: nowhere}\n",
            "edge 'e' pulls from 'nowhere', which is not a target in the file",
        ),
        ("targets:\n  - {name: a, api_url: 'http://x:8081', token_env: A, token_file: f}\n", "not both"),
        (
            "targets:\n  - {name: a, api_url: 'http://x:8081', token_env: OMH_TEST_UNSET_VAR}\n",
            "environment variable OMH_TEST_UNSET_VAR is not set",
        ),
        (
            "targets:\n  - {name: a, api_url: 'http://x:8081', token_file: missing}\n",
            "No such file or directory",
        ),
    ],
)
def test_bad_targets_file_is_one_line(tmp_path: Path, monkeypatch, text: str, says: str) -> None:
    monkeypatch.setenv("OMH_TEST_TOKEN", "t")
    monkeypatch.delenv("OMH_TEST_UNSET_VAR", raising=False)
    assert says in load(tmp_path, text)


@pytest.mark.parametrize("key", ["token", "access_token", "password"])
def test_token_in_clear_is_refused_without_echoing_it(tmp_path: Path, key: str) -> None:
    message = load(tmp_path, f"targets:\n  - {{name: a, api_url: 'http://x:8081', {key}: {SECRET}}}\n")
    assert f"target 'a' has a token in clear (`{key}:`)" in message and "token_env" in message


def test_ten_thousand_targets_are_refused_at_once(tmp_path: Path) -> None:
    text = "targets:\n" + "".join(
        f"  - {{name: n{i}, api_url: 'http://10.0.0.1:8081'}}\n" for i in range(10_000)
    )
    assert f"10000 targets; at most {MAX_TARGETS} per run" in load(tmp_path, text)


def test_token_file_is_read_relative_to_the_targets_file(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text("file-token\n")
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  - {name: a, api_url: 'http://x:8081', token_file: tok}\n")
    fleet, tokens = load_targets(path)
    assert tokens == {"a": "file-token"} and fleet.one_token


def test_bad_targets_file_exits_2_with_one_line(run_cli, tmp_path: Path) -> None:
    (tmp_path / "targets.yaml").write_text(
        f"targets:\n  - {{name: a, api_url: 'http://x:8081', token: {SECRET}}}\n"
    )
    run = run_cli("diagnose", "--targets", str(tmp_path / "targets.yaml"))
    assert run.code == 2 and run.stdout == "" and run.stderr.count("\n") == 1, run.output
    assert run.stderr.startswith("ome-harness: error: --targets") and SECRET not in run.stderr
    missing = run_cli("diagnose", "--targets", str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and "no such file" in missing.stderr
