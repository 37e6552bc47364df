"""Render the Server.xml the launcher mounts: OME's origin layout with the API on and the token set."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2

from ome_harness import __version__
from ome_harness.container.errors import ContainerError

TEMPLATE_NAME = "Server.xml.j2"


@dataclass(frozen=True)
class OmePorts:
    """OME's default ports inside the container (the launcher maps them to free host ports)."""

    api: int = 8081
    rtmp: int = 1935
    srt: int = 9999
    llhls: int = 3333
    webrtc_relay: int = (
        3478  # OME's WebRTC TCP relay (TURN over TCP: iceServers in webrtc_signalling_offer.json)
    )


def template_path(override: Path | None = None) -> Path:
    """The template: the configured one, the checkout's docker/, or the copy bundled in the wheel."""
    if override is not None:
        if not override.is_file():
            raise ContainerError(
                f"{override}: the Server.xml template (container.server_xml_template) does not exist."
            )
        return override
    package = Path(__file__).resolve().parents[1]
    for candidate in (
        package.parent / "docker" / TEMPLATE_NAME,
        package / "_bundled" / "docker" / TEMPLATE_NAME,
    ):
        if candidate.is_file():
            return candidate
    raise ContainerError(
        f"The Server.xml template ({TEMPLATE_NAME}) is missing from this installation of ome-harness."
    )


def render_server_xml(*, access_token: str, vhost: str, app: str, run_id: str, ports: OmePorts = OmePorts(),
                      template: Path | None = None) -> str:
    """Server.xml text; every value is XML-escaped, so any token renders safely."""
    path = template_path(template)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(path.parent)), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        return env.get_template(path.name).render(
            access_token=access_token, vhost=vhost, app=app, run_id=run_id, ports=asdict(ports),
            server_name="OvenMediaEngine", ice_candidates="10000-10004/udp", harness_version=__version__)
    except jinja2.TemplateError as exc:
        raise ContainerError(f"{path}: cannot render the Server.xml template: {exc}") from None
