"""ome-harness: test and diagnostics suite for OvenMediaEngine deployments."""

__version__ = "0.1.0"
