"""bench/run_all.py: the one table of `make bench`, and the interface every benchmark
implements (the figures themselves are measured by `make bench`, never here)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_all", BENCH / "run_all.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_all = load_runner()


def test_every_benchmark_exposes_bench_rows() -> None:
    files = sorted(BENCH.glob("bench_*.py"))
    assert files, "no benchmarks in bench/"
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {
            node.name for node in tree.body if isinstance(node, ast.FunctionDef)
        }
        assert "bench_rows" in functions, f"{path.name} has no bench_rows()"


@pytest.mark.parametrize(
    ("value", "goal", "met"),
    [
        (2000.0, "≥ 2000", "yes"),
        (1999.9, "≥ 2000", "NO"),
        (0.05, "≤ 0.05", "yes"),
        (0.051, "<= 0.05", "NO"),
        (1.8, ">= 1.8", "yes"),
        (250.0, "≤ 250", "yes"),
        (3.0, "", ""),
        (None, "≥ 1", ""),
    ],
)
def test_goal_met(value: float | None, goal: str, met: str) -> None:
    assert run_all.goal_met(value, goal) == met


@pytest.mark.parametrize(
    "row",
    [
        ("orders", "orders/s", 1.0, None, "≥ 2000"),  # five values
        ("orders", "orders/s", "fast", None, "", "orders/s"),  # not a number
        ("orders", "orders/s", 1.0, "1", "", "orders/s"),  # baseline as text
        ("orders", "orders/s", 1.0, None, "at least 2000", "orders/s"),
        "orders",
    ],
)
def test_a_malformed_row_is_refused(row: object) -> None:
    with pytest.raises(ValueError, match="row|must"):
        run_all.check_row(row)


def test_table_puts_value_beside_baseline_and_goal() -> None:
    rows = [
        ("orders", "journal, orders/s (sqlite)", 2400.0, 800.0, "≥ 2000", "orders/s"),
        ("orders", "calls per order (sqlite)", 0.02, 1.56, "≤ 0.05", "calls/order"),
        ("orders", "backfill, orders/s (sqlite)", 900.0, None, "", "orders/s"),
    ]
    lines = run_all.table(rows).splitlines()
    assert lines[0].split() == [
        "flow", "metric", "value", "baseline", "vs", "base", "goal", "met", "unit",
    ]  # fmt: skip
    assert "2 400" in lines[2]
    assert "800" in lines[2]
    assert "3.0×" in lines[2]
    assert "yes" in lines[2]
    assert "1/78.0" in lines[3]
    assert "yes" in lines[3]
    assert "–" in lines[4]
    assert "yes" not in lines[4]
    assert "NO" not in lines[4]


def write_bench(directory: Path, name: str, body: str) -> None:
    (directory / f"bench_{name}.py").write_text(body, encoding="utf-8")


def test_one_failing_benchmark_does_not_hide_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_bench(
        tmp_path,
        "alpha",
        "def bench_rows():\n"
        "    print('alpha detail')\n"
        "    return [('alpha', 'things/s', 10.0, 5.0, '≥ 8', 'things/s')]\n",
    )
    write_bench(tmp_path, "beta", "def bench_rows():\n    raise RuntimeError('boom')\n")
    write_bench(tmp_path, "gamma", "def main():\n    pass\n")
    monkeypatch.setattr(run_all, "BENCH_DIR", tmp_path)

    assert run_all.main([]) == 1

    out = capsys.readouterr().out
    assert "alpha detail" in out  # the benchmark's own output is kept
    assert "cores" in out
    summary = out[out.index("== Summary") :]
    assert "things/s" in summary
    assert "2.0×" in summary
    assert "FAILED: beta failed: RuntimeError: boom" in summary
    assert "FAILED: bench_gamma.py has no bench_rows()" in summary


def test_only_runs_the_named_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_bench(
        tmp_path,
        "alpha",
        "def bench_rows():\n    return [('alpha', 'a', 1.0, None, '', 'x')]\n",
    )
    write_bench(tmp_path, "beta", "def bench_rows():\n    raise RuntimeError('boom')\n")
    monkeypatch.setattr(run_all, "BENCH_DIR", tmp_path)

    assert run_all.main(["--only", "alpha"]) == 0

    out = capsys.readouterr().out
    assert "bench_beta" not in out
    assert run_all.main(["--only", "nothing"]) == 1
