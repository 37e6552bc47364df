"""Where each capability's subcommands are attached to the `ome-harness` app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    # One line per capability module; each module exposes register(app).
    __import__("ome_harness.backend.command", fromlist=["register"]).register(app)
    __import__("ome_harness.container.commands", fromlist=["register"]).register(app)
    __import__("ome_harness.load.command", fromlist=["register"]).register(app)
    __import__("ome_harness.recording.command", fromlist=["register"]).register(app)
