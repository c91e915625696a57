"""Where a long batch of stock rows got to: its steps, their share of the whole,
and the one way to drive a step generator (hub.catalog.rows.applying).

The command line prints the steps (hub/catalog/management/commands/stock.py), the
import page streams them as a bar (hub/catalog/import_stream.py).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

from django.utils.translation import gettext_lazy

# Rows written per statement batch between two progress reports.
PROGRESS_CHUNK = 5000
# A long batch's steps, in order, with their share of the whole (for one bar).
STEPS = {"check": 30, "items": 35, "levels": 35}
STEP_NAMES = {
    "check": gettext_lazy("checking rows"),
    "items": gettext_lazy("saving items"),
    "levels": gettext_lazy("saving stock levels"),
}
# (step, done, total): where a batch got to.
Step = tuple[str, int, int]
Report = Callable[[str, int, int], None]
Result = TypeVar("Result")


def percent(step: str, done: int, total: int) -> int:
    """How far a batch is, 0–100, from the step it is in and its own progress."""
    before = 0
    for name, share in STEPS.items():
        if name == step:
            return min(100, before + (share * done // total if total else share))
        before += share
    return 0


def no_report(step: str, done: int, total: int) -> None:
    pass


def run_steps(steps: Generator[Step, None, Result], report: Report) -> Result:
    """Drive a step generator to its end, telling report each step."""
    while True:
        try:
            step = next(steps)
        except StopIteration as done:
            return done.value
        report(*step)
