"""`make bench`: every flow's benchmark in one run, then one table.

    python bench/run_all.py [--only orders,inventory] [--list]

Each `bench/bench_*.py` is a benchmark of one flow. It runs on its own
(`python bench/bench_orders.py --help`) and prints its own detailed output. For
this table it also exposes one function:

    def bench_rows() -> list[tuple[str, str, float | None, float | None, str, str]]

It runs the benchmark with its default settings (printing its usual output) and
returns rows of (flow, metric, value, baseline, goal, unit):

- flow: the flow's name, e.g. "orders";
- metric: what was measured, with the database if it matters,
  e.g. "journal, orders/s (sqlite)";
- value: the figure for the hub's code, measured now (None: not measured);
- baseline: the figure to compare it with, measured in the same run on the same
  machine, e.g. the naive way of doing the same work (None: no baseline);
- goal: the issue's goal as a comparison with a number, "≥ 2000" or "≤ 0.05"
  ("" when there is none);
- unit: "orders/s", "calls/order", "MiB", "ms", "×", …

A benchmark that fails is reported in the table and makes `make bench` exit 1;
the others still run. Goals are checked here, never as timed assertions in tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
Row = tuple[str, str, float | None, float | None, str, str]
GOAL = re.compile(r"^\s*(≥|>=|≤|<=)\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*$")


def benchmark_files(only: Sequence[str] = ()) -> list[Path]:
    files = sorted(BENCH_DIR.glob("bench_*.py"))
    if only:
        files = [f for f in files if f.stem.removeprefix("bench_") in only]
    return files


def load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_row(row: Any) -> Row:
    """The row as promised by the interface above, or ValueError saying why not."""
    if not isinstance(row, tuple | list) or len(row) != 6:
        raise ValueError(f"a row must be 6 values, not {row!r}")
    flow, metric, value, baseline, goal, unit = row
    for name, number in (("value", value), ("baseline", baseline)):
        if number is not None and not isinstance(number, int | float):
            raise ValueError(f"{name} must be a number or None in {row!r}")
    if goal and not GOAL.match(str(goal)):
        raise ValueError(f"goal must look like '≥ 2000' or '≤ 0.05' in {row!r}")
    return (str(flow), str(metric), value, baseline, str(goal or ""), str(unit))


def goal_met(value: float | None, goal: str) -> str:
    """ "yes", "NO", or "" when there is no goal or no value to judge."""
    match = GOAL.match(goal)
    if value is None or not match:
        return ""
    op, number = match.group(1), float(match.group(2).replace("_", ""))
    met = value >= number if op in ("≥", ">=") else value <= number
    return "yes" if met else "NO"


def number(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def ratio(value: float | None, baseline: float | None) -> str:
    if value is None or baseline is None or baseline == 0 or value == 0:
        return ""
    factor = value / baseline
    return f"{factor:.1f}×" if factor >= 1 else f"1/{1 / factor:.1f}"


def run_benchmark(path: Path) -> tuple[list[Row], str]:
    """Rows of one benchmark, or no rows and the reason it failed."""
    name = path.stem.removeprefix("bench_")
    try:
        module = load(path)
        bench_rows = getattr(module, "bench_rows", None)
        if bench_rows is None:
            return [], f"{path.name} has no bench_rows() (see bench/run_all.py)"
        return [check_row(row) for row in bench_rows()], ""
    except SystemExit as exc:
        return [], f"{name} stopped: {exc.code}"
    except Exception as exc:  # noqa: BLE001 - one failing benchmark must not hide the rest
        traceback.print_exc()
        return [], f"{name} failed: {type(exc).__name__}: {exc}"


def machine() -> str:
    cores = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = cores
    cpus = f"{cores} cores" if usable == cores else f"{usable} of {cores} cores"
    return (
        f"{cpus}, Python {platform.python_version()}, {platform.system()} "
        f"{platform.machine()}, {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def table(rows: Sequence[Row]) -> str:
    header = ("flow", "metric", "value", "baseline", "vs base", "goal", "met", "unit")
    lines = [header]
    for flow, metric, value, baseline, goal, unit in rows:
        lines.append(
            (
                flow,
                metric,
                number(value),
                number(baseline),
                ratio(value, baseline),
                goal,
                goal_met(value, goal),
                unit,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {2, 3, 4}
    out = []
    for index, line in enumerate(lines):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated flows, e.g. orders")
    parser.add_argument("--list", action="store_true", help="list the benchmarks")
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    files = benchmark_files(only)
    if args.list or not files:
        for path in files:
            print(path.name)
        if not files:
            print("no benchmarks in bench/" + (f" for {args.only}" if only else ""))
        return 0 if args.list or not only else 1
    rows: list[Row] = []
    failures: list[str] = []
    for path in files:
        print(f"== {path.name}", flush=True)
        started = time.perf_counter()
        found, failure = run_benchmark(path)
        rows += found
        if failure:
            failures.append(failure)
        print(f"   ({time.perf_counter() - started:.0f} s)\n", flush=True)
    print(f"== Summary: {machine()}")
    print("baseline: measured in this run; vs base: value ÷ baseline\n")
    print(table(rows) if rows else "no figures")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
