"""One config model: defaults < YAML < OMH_* environment < flags, and one clear line for mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ome_harness.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("OMH_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_a_stock_ome() -> None:
    cfg = load_config()
    assert (cfg.api.url, cfg.api.vhost, cfg.api.app) == ("http://localhost:8081", "default", "app")


def test_priority_is_file_then_environment_then_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "h.yaml").write_text("api:\n  url: http://file:1\n  vhost: filevh\n  app: fileapp\n")
    monkeypatch.setenv("OMH_API__URL", "http://env:2")
    monkeypatch.setenv("OMH_API__VHOST", "envvh")
    cfg = load_config(tmp_path / "h.yaml", {"api": {"url": "http://flag:3", "vhost": None}})
    assert (cfg.api.url, cfg.api.vhost, cfg.api.app) == ("http://flag:3", "envvh", "fileapp")


def test_harness_yaml_in_the_working_folder_is_picked_up(tmp_path: Path) -> None:
    (tmp_path / "harness.yaml").write_text("api:\n  app: live\n")
    assert load_config().api.app == "live"


@pytest.mark.parametrize("text, words", [
    ("api:\n  timeout: 3\n", "unknown key 'api.timeout'"),
    ("api:\n  read_timeout: soon\n", "key 'api.read_timeout'"),
    ("api: [\n", "not valid YAML at line 2"),
    ("- a\n- b\n", "must be a mapping"),
    ("target: moon\n", "key 'target'"),
])
def test_bad_file_names_file_and_key(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "bad.yaml")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'bad.yaml'}: ") and words in message and "\n" not in message


def test_token_of_wrong_type_never_echoes_its_value(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("api:\n  token: 918273645\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "bad.yaml")
    assert "api.token" in str(caught.value) and "918273645" not in str(caught.value)


def test_secrets_do_not_show_in_the_model_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMH_API__TOKEN", "s3cret-token")
    cfg = load_config()
    assert "s3cret-token" not in repr(cfg) and "s3cret-token" in cfg.secrets()


def test_the_shipped_example_is_valid() -> None:
    load_config(REPO / "harness.example.yaml")
