"""The check registry: a new check is one function plus its @check line."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ome_harness.checks import CHECK_MODULES
from ome_harness.checks.context import CheckContext
from ome_harness.results import CheckResult

CheckFn = Callable[[CheckContext], CheckResult]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    run: CheckFn
    needs: tuple[str, ...] = ()
    order: int = 0
    when: Callable[[CheckContext], bool] | None = None
    not_run_note: str = ""
    expected: str = ""

    def applies(self, ctx: CheckContext) -> bool:
        return self.when is None or self.when(ctx)


CHECKS: dict[str, Check] = {}


def check(id: str, title: str, *, needs: tuple[str, ...] = (), order: int,
          when: Callable[[CheckContext], bool] | None = None, not_run_note: str = "", expected: str = "",
          ) -> Callable[[CheckFn], CheckFn]:
    """Register a check; `needs` are checks whose results it reads from `ctx.done`.

    `when` gates optional ones; `expected` says what a healthy deployment shows (every result
    carries it).
    """

    def register(fn: CheckFn) -> CheckFn:
        CHECKS[id] = Check(id=id, title=title, run=fn, needs=needs, order=order, when=when,
                           not_run_note=not_run_note, expected=expected)
        return fn

    return register


def all_checks() -> list[Check]:
    # Importing the modules runs their @check lines.
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return sorted(CHECKS.values(), key=lambda c: c.order)
