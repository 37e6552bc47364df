"""Diagnosis: independent checks of one deployment, run concurrently, each a CheckResult.

A new check is one function with its `@check` line, in one of the modules below; a new module of
checks is one more line here. The registry imports them when the checks are first listed (not when
this package is imported, so importing one check module never loads the others).
"""

CHECK_MODULES: tuple[str, ...] = (
    "ome_harness.checks.api",
    "ome_harness.checks.config_files",
    "ome_harness.checks.network",
    "ome_harness.checks.scte35_capability",
)
