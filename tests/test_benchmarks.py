"""benchmarks/run.py runs and writes its report; it asserts nothing about speed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_runs_and_writes_its_table_and_chart(tmp_path):
    # --quick: small sizes; --no-optional: leave out JAX, PyTorch and numba
    # (their imports and compilations cost more than the run), ~20 s.
    script = str(ROOT / "benchmarks" / "run.py")
    done = subprocess.run(
        [sys.executable, script, "--quick", "--no-optional", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    report = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert report in done.stdout
    for needle in (
        "## Full-batch gradient of the mean loss",
        "| derivreg grad |",
        "| textbook NumPy |",
        "## One per-sample SGD epoch",
        "| lecture loop |",
        "| scikit-learn |",
        "OPENBLAS_CORETYPE",
        "## Start-up",
        "## Memory",
        "## Scaling: ns per row x feature",
        "## derivreg lecture",
        "## The targets of issue 15",
    ):
        assert needle in report
    for chart in ("benchmark.png", "scaling.png"):
        assert (tmp_path / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "results.json").exists()


def test_fewer_than_seven_repeats_are_refused():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--repeats", "3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "at least 7" in done.stderr


def test_the_newton_comparison_runs_and_writes_its_table(tmp_path):
    # One repeat: a smoke test of benchmarks/newton.py (the figures are its, not the test's).
    script = str(ROOT / "benchmarks" / "newton.py")
    done = subprocess.run(
        [sys.executable, script, "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    report = (tmp_path / "newton.md").read_text(encoding="utf-8")
    assert report in done.stdout
    for data in ("diabetes", "breast_cancer[:, :10]", "iris", "make_regression", "make_class"):
        assert data in report
    for solver in ("derivreg Newton", "statsmodels", "scikit-learn", "load average"):
        assert solver in report
    assert (tmp_path / "newton.json").exists()


def test_the_dask_scale_run_runs_at_a_tiny_size_and_writes_its_table(tmp_path):
    # A smoke test of benchmarks/dask_scale.py: 20,000 rows in 4 chunks on a 1-worker
    # LocalCluster, dask-ml included where installed (the figures are the script's).
    pytest.importorskip("distributed")
    pytest.importorskip("zarr")
    script = str(ROOT / "benchmarks" / "dask_scale.py")
    args = ["--rows", "20000", "--chunk-rows", "5000", "--workers", "1", "--memory-limit", "1GiB"]
    args += ["--store", str(tmp_path / "s.zarr"), "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, check=True, timeout=600
    )
    report = (tmp_path / "dask_scale.md").read_text(encoding="utf-8")
    assert report in done.stdout
    for needle in ("| one read of the store", "Newton converged: True", "derivreg Newton",
                   "| scheduler |", "| worker tcp://"):  # fmt: skip
        assert needle in report
    assert not (tmp_path / "s.zarr").exists()  # deleted without --keep
    text = (tmp_path / "dask_scale.json").read_text(encoding="utf-8")
    assert "peak_rss" in text
    figures = json.loads(text)
    assert figures["newton_iter"] >= 1
    assert len(figures["passes_s"]) >= figures["newton_iter"]
    if figures["dask_ml"] is not None:  # dask-glm's Newton: one compute per iteration
        assert figures["dask_ml"]["graphs"] >= 2
        assert figures["dask_ml"]["max_rel_diff"] < 1e-6
