"""A fleet in one run: every node diagnosed concurrently, drift between nodes, origin → edge delivery."""

from ome_harness.fleet.command import diagnose_targets_file
from ome_harness.fleet.runner import DEFAULT_CONCURRENCY

__all__ = ["DEFAULT_CONCURRENCY", "diagnose_targets_file"]
