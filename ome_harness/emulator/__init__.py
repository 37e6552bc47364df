"""A faithful stand-in for OME's REST API (and, later, its ingest), for laptops and for fault injection."""

from ome_harness.emulator.server import EmulatorServer, EmulatorSettings
from ome_harness.emulator.state import EmulatorState, Faults

__all__ = ["EmulatorServer", "EmulatorSettings", "EmulatorState", "Faults"]
