"""Launching OME in a real container: ready, reachable through the mapped loopback ports, then removed."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from ome_harness.config import HarnessConfig
from ome_harness.container import labels as lbl
from ome_harness.container.errors import ContainerError
from ome_harness.container.launcher import OmeContainer
from ome_harness.ome.errors import OmeUnauthorized
from ome_harness.redaction import MASK
from ome_harness.scenarios.container_launch import TOKEN_IN_OME_LOG
from ome_harness.target.container import container_target

pytest_plugins = ["container_fixtures"]
pytestmark = [pytest.mark.docker, pytest.mark.container]


def test_launched_container_is_ready_answers_through_its_mapped_port_and_is_removed(
        container_cfg: HarnessConfig, docker_engine: docker.DockerClient, test_containers, test_id: str) -> None:
    with container_target(container_cfg) as target:
        assert target.kind == "container" and target.launched
        assert target.api_url.startswith("http://127.0.0.1:")
        assert target.client().version().version  # the authenticated probe, repeated by the caller
        with pytest.raises(OmeUnauthorized):
            target.client(token=None).version()
        (container,) = test_containers()
        assert container.status == "running"
        mapped = container.attrs["NetworkSettings"]["Ports"]["8081/tcp"][0]
        assert target.api_url == f"http://127.0.0.1:{mapped['HostPort']}"
        assert container.labels[lbl.OWNER_LABEL] == "ome-harness"
        assert container.labels[lbl.RUN_ID_LABEL] == target.extra["run_id"]
        assert container.labels["ome-harness-test.id"] == test_id
        config_dir = Path(container.labels[lbl.CONFIG_DIR_LABEL])
        assert (config_dir / "Server.xml").is_file()
        mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
        assert mounts["/opt/ovenmediaengine/bin/origin_conf/Server.xml"]["Source"] == str(config_dir / "Server.xml")
        assert target.image == container_cfg.container.image
        assert target.image_digest == docker_engine.images.get(target.image).id
    assert test_containers() == []
    assert not config_dir.exists(), "the rendered Server.xml (it holds the token) must not outlive the container"


def test_every_port_is_published_on_loopback_only(container_cfg: HarnessConfig, test_containers) -> None:
    with container_target(container_cfg) as target:
        (container,) = test_containers()
        ports = container.attrs["NetworkSettings"]["Ports"]
        for spec in ("8081/tcp", "1935/tcp", "9999/udp", "3333/tcp"):
            assert [b["HostIp"] for b in ports[spec]] == ["127.0.0.1"], spec
        assert target.rtmp_url("cam1") == f"rtmp://127.0.0.1:{ports['1935/tcp'][0]['HostPort']}/app/cam1"
        assert target.srt_url("cam1").startswith(f"srt://127.0.0.1:{ports['9999/udp'][0]['HostPort']}?streamid=")
        assert target.llhls_url("cam1") == f"http://127.0.0.1:{ports['3333/tcp'][0]['HostPort']}/app/cam1/llhls.m3u8"


def test_the_container_log_is_kept_next_to_the_reports_without_the_token(
        container_cfg: HarnessConfig, tmp_path: Path) -> None:
    # OME writes this word in its start-up line: the mask must stand where it was.
    container_cfg.container.token = TOKEN_IN_OME_LOG
    with container_target(container_cfg) as target:
        log_path = Path(target.extra["log_path"])
        assert target.token == TOKEN_IN_OME_LOG
    assert log_path.parent == tmp_path / "reports" / "containers"
    text = log_path.read_text()
    assert "/opt/ovenmediaengine/bin/origin_conf/Server.xml" in text
    assert TOKEN_IN_OME_LOG not in text
    assert f"{MASK} stand-in (ome-harness API emulator; not a real {MASK})" in text


def test_an_unwritable_report_folder_still_removes_the_container_and_its_config(
        container_cfg: HarnessConfig, test_containers, capsys) -> None:
    container_cfg.report.out = "/dev/null/x"
    with container_target(container_cfg) as target:
        (container,) = test_containers()
        config_dir = Path(container.labels[lbl.CONFIG_DIR_LABEL])
        assert target.client().version().version
    assert test_containers() == []
    assert not config_dir.exists(), "the rendered Server.xml (it holds the token) must not outlive the container"
    assert "could not keep the log of container" in capsys.readouterr().err


def test_a_launched_ome_does_not_show_its_token_in_its_repr(container_cfg: HarnessConfig) -> None:
    container_cfg.container.token = "a-token-for-repr-only"
    ome = OmeContainer(container_cfg)
    try:
        launched = ome.start()
        assert launched.token == "a-token-for-repr-only"
        assert "a-token-for-repr-only" not in repr(launched)
    finally:
        ome.remove()


def test_two_launches_side_by_side_get_different_ports(container_cfg: HarnessConfig) -> None:
    with container_target(container_cfg) as first, container_target(container_cfg) as second:
        ports_of = [{t.api_url, t.rtmp_base, t.llhls_base} for t in (first, second)]
        assert not ports_of[0] & ports_of[1]
        assert first.extra["container_name"] != second.extra["container_name"]
        assert first.token != second.token, "each launch gets its own random token"
        assert first.client().version() and second.client().version()


def test_an_exception_inside_the_block_still_removes_the_container(
        container_cfg: HarnessConfig, test_containers) -> None:
    with pytest.raises(RuntimeError, match="the test failed"), container_target(container_cfg) as target:
        assert len(test_containers()) == 1
        raise RuntimeError("the test failed")
    assert test_containers() == []
    assert Path(target.extra["log_path"]).is_file()


def test_the_container_is_a_context_manager_that_removes_it_when_start_fails(
        container_cfg: HarnessConfig, api_off_template: Path, test_containers) -> None:
    container_cfg.container.server_xml_template = api_off_template
    container_cfg.container.ready_timeout = 2
    ome = OmeContainer(container_cfg)
    with pytest.raises(ContainerError), ome:
        raise AssertionError("the block must not run when the start failed")
    assert test_containers() == []
    assert ome.config_dir is not None and not ome.config_dir.exists(), "the rendered Server.xml is gone"


def test_the_end_of_the_with_block_removes_the_container(container_cfg: HarnessConfig,
                                                         test_containers) -> None:
    ome = OmeContainer(container_cfg)
    with ome as launched:
        assert launched.name == ome.name and len(test_containers()) == 1
    assert test_containers() == []
    assert ome.config_dir is not None and not ome.config_dir.exists()
