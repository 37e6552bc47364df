"""The Server.xml the launcher mounts, and how leftovers are told from live runs (no Docker needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ome_harness.container import labels as lbl
from ome_harness.container.errors import ContainerError
from ome_harness.container.server_xml_render import OmePorts, render_server_xml
from ome_harness.ome.server_xml import read_server_xml

REPO = Path(__file__).resolve().parents[1]


def _rendered(tmp_path: Path, **kwargs) -> Path:
    values = {"access_token": "tok", "vhost": "default", "app": "app", "run_id": "r1"} | kwargs
    path = tmp_path / "Server.xml"
    path.write_text(render_server_xml(**values))
    return path


def test_rendered_config_enables_the_api_with_the_token_and_ome_default_ports(tmp_path: Path) -> None:
    facts = read_server_xml(_rendered(tmp_path, access_token="s3cret-token"), env={})
    assert facts.api_enabled and facts.api_port == 8081
    assert facts.access_token == "s3cret-token"
    assert (facts.rtmp_port, facts.srt_port, facts.llhls_port) == (1935, 9999, 3333)
    assert facts.ips == ("*",), "inside a container OME must listen on every address"


def test_any_token_vhost_and_app_survive_rendering_as_xml(tmp_path: Path) -> None:
    token = 'a<b>&c"d\'e ${env:X}'
    facts = read_server_xml(_rendered(tmp_path, access_token=token, vhost="v&1", app="live<2>"), env={})
    assert facts.access_token == token.replace("${env:X}", "")  # OME (and the reader) expand ${env:...}
    assert facts.vhosts == ("v&1",) and facts.apps == {"v&1": ("live<2>",)}


def test_other_ports_render_where_ome_reads_them(tmp_path: Path) -> None:
    facts = read_server_xml(
        _rendered(tmp_path, ports=OmePorts(api=18081, rtmp=11935, srt=19999, llhls=13333)), env={}
    )
    assert (facts.api_port, facts.rtmp_port, facts.srt_port, facts.llhls_port) == (18081, 11935, 19999, 13333)


def test_a_missing_template_override_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContainerError, match=r"nope\.j2: the Server.xml template .* does not exist"):
        render_server_xml(
            access_token="t", vhost="default", app="app", run_id="r", template=tmp_path / "nope.j2"
        )


def test_the_standin_image_default_config_keeps_the_api_closed_like_the_official_image() -> None:
    facts = read_server_xml(REPO / "docker" / "emulator" / "Server.xml", env={})
    assert not facts.api_enabled and facts.api_port is None


def test_a_live_launcher_is_recognised_and_a_finished_one_is_not() -> None:
    assert lbl.launcher_alive(lbl.launcher_identity())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = lbl.launcher_identity(proc.pid)
    proc.wait()
    assert not lbl.launcher_alive(identity)


def test_a_recycled_pid_does_not_look_like_the_launcher() -> None:
    host, pid, started = lbl.launcher_identity().split("/")
    assert not lbl.launcher_alive(f"{host}/{pid}/{int(started) + 1}")
    assert not lbl.launcher_alive("garbage")


def test_a_launcher_on_another_host_is_assumed_alive() -> None:
    assert lbl.launcher_alive("some-other-host/1/1")


def test_only_our_own_config_dirs_are_ever_deleted() -> None:
    import tempfile

    ours = Path(tempfile.gettempdir()) / "ome-harness-abc123"
    assert lbl.owned_config_dir({lbl.CONFIG_DIR_LABEL: str(ours)}) == ours
    for hostile in ("/", "/etc", str(Path(tempfile.gettempdir())), "/home/ome-harness-x", str(ours / "..")):
        assert lbl.owned_config_dir({lbl.CONFIG_DIR_LABEL: hostile}) is None, hostile
