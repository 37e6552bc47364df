"""Opening the target the config names: attach to a URL, run the emulator, or launch a container.

Kept apart from base.py (the OmeTarget model) so the model never imports the launchers that build it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ome_harness.config import HarnessConfig
from ome_harness.target.base import OmeTarget, attach_target, bases_of
from ome_harness.target.media_addresses import launched_addresses


@contextlib.contextmanager
def emulator_target(cfg: HarnessConfig) -> Iterator[OmeTarget]:
    from ome_harness.emulator.server import EmulatorServer, emulator_settings

    settings = emulator_settings(cfg)
    with EmulatorServer(settings) as server:
        addresses = server.target_addresses()
        media = launched_addresses("emulator", addresses["rtmp_base"], addresses["srt_base"],
                                   addresses["llhls_base"])
        yield OmeTarget(kind="emulator", api_url=server.url, token=settings.token, vhost=cfg.api.vhost,
                        app=cfg.api.app, connect_timeout=cfg.api.connect_timeout,
                        read_timeout=cfg.api.read_timeout, launched=True, emulator=server, **bases_of(media))


@contextlib.contextmanager
def open_target(cfg: HarnessConfig) -> Iterator[OmeTarget]:
    """The target the config names; whatever the harness starts here, it also stops."""
    if cfg.target == "emulator":
        opened = emulator_target(cfg)
    elif cfg.target == "container":
        # Loaded only here: the Docker SDK comes with it.
        from ome_harness.target.container import container_target

        opened = container_target(cfg)
    else:
        opened = contextlib.nullcontext(attach_target(cfg))
    with opened as target:
        try:
            yield target
        finally:
            target.close()
