"""Launch OvenMediaEngine in a Docker container and own its whole life: pull, configure, wait, remove."""

from typing import Any

from ome_harness.container.errors import (
    ContainerError,
    ContainerExited,
    ContainerNotReady,
    EngineUnavailable,
    ImageUnavailable,
)

__all__ = ["ContainerError", "ContainerExited", "ContainerNotReady", "EngineUnavailable", "ImageUnavailable",
           "LaunchedOme", "launch_ome_container"]


def __getattr__(name: str) -> Any:
    # The launcher pulls in the Docker SDK; load it on first use, not with every `ome-harness` start.
    if name in ("LaunchedOme", "launch_ome_container"):
        from ome_harness.container import launcher

        return getattr(launcher, name)
    raise AttributeError(name)
