"""How we reach OME: attach to a URL, run the emulator, or launch a container."""

from ome_harness.target.base import OmeTarget
from ome_harness.target.opening import open_target

__all__ = ["OmeTarget", "open_target"]
