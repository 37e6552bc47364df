"""Launch OvenMediaEngine in a Docker container and own its whole life: pull, configure, wait, remove."""

from ome_harness.container.errors import (
    ContainerError,
    ContainerExited,
    ContainerNotReady,
    EngineUnavailable,
    ImageUnavailable,
)
from ome_harness.container.launcher import LaunchedOme, launch_ome_container

__all__ = ["ContainerError", "ContainerExited", "ContainerNotReady", "EngineUnavailable", "ImageUnavailable",
           "LaunchedOme", "launch_ome_container"]
