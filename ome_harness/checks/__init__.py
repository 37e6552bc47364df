"""Diagnosis: independent checks of one deployment, run concurrently, each a CheckResult."""
