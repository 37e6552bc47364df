"""The container target: a freshly launched OME, reachable on loopback, removed when the block ends."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ome_harness.config import HarnessConfig
from ome_harness.container.launcher import LaunchedOme, launch_ome_container
from ome_harness.target.base import OmeTarget
from ome_harness.target.media_addresses import launched_addresses


def target_for(ome: LaunchedOme, cfg: HarnessConfig) -> OmeTarget:
    """The OmeTarget describing a launched container."""
    # docker/Server.xml.j2 binds WebRTC signalling on the LL-HLS port, as OME's example configs do.
    webrtc = ome.llhls_base.replace("http://", "ws://", 1) if ome.llhls_base else None
    media = launched_addresses("container", ome.rtmp_base, ome.srt_base, ome.llhls_base, webrtc)
    return OmeTarget(
        kind="container", api_url=ome.api_url, token=ome.token, vhost=cfg.api.vhost, app=cfg.api.app,
        connect_timeout=cfg.api.connect_timeout, read_timeout=cfg.api.read_timeout, launched=True,
        rtmp_base=ome.rtmp_base, srt_base=ome.srt_base, llhls_base=ome.llhls_base, webrtc_base=webrtc,
        media_sources=media.sources,
        image=ome.image, image_digest=ome.image_digest,
        extra={"container_name": ome.name, "container_id": ome.container_id, "run_id": ome.run_id,
               "log_path": str(ome.log_path) if ome.log_path else None, "ready_seconds": ome.ready_seconds,
               "version": ome.version})


@contextlib.contextmanager
def container_target(cfg: HarnessConfig) -> Iterator[OmeTarget]:
    """Launch OME from cfg.container.image, yield it ready, remove it (and keep its log) afterwards."""
    with launch_ome_container(cfg) as ome:
        yield target_for(ome, cfg)
