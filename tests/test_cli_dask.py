"""``derivreg train --chunks/--store/--solver``: out of core, progress per pass, one-line errors."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask.array")
pytest.importorskip("zarr")

from derivreg import _store
from derivreg.cli import main

ROOT = Path(__file__).resolve().parents[1]


def fails_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_the_issues_command_writes_the_store_then_fits_it_with_a_line_per_pass(tmp_path, capsys):
    store = tmp_path / "data.zarr"
    argv = ["train", "logistic", "--samples", "40000", "--chunks", "10000", "--features", "3",
            "--solver", "newton", "--store", str(store)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert "writing data.zarr: 4/4 chunks (100%)" in err
    assert any(line.startswith("derivreg train: 4 chunks of up to 10000 rows") for line in err)
    passes = [line for line in err if line.startswith("pass ")]
    assert len(passes) >= 3
    assert "max |gradient|" in passes[-1]
    info = _store.store_info(store)
    table = captured.out.splitlines()
    assert table[0].split() == ["parameter", "true", "fitted"]
    assert float(table[1].split()[1]) == pytest.approx(info.true_w[0], abs=1e-6)
    assert table[-1].startswith(f"{len(passes)} passes over the data")
    # a second run reads the store it finds, and writes nothing
    assert main(["train", "logistic", "--store", str(store), "--solver", "gd"]) == 0
    assert "writing" not in capsys.readouterr().err


def test_sgd_out_of_core_reports_each_epoch(capsys):
    argv = ["train", "linear", "--samples", "4000", "--chunks", "1000", "--solver", "sgd",
            "--epochs", "2", "--lr", "0.01", "--shuffle", "--noise", "0.1"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert [line.split(":")[0] for line in captured.err.splitlines()[1:]] == [
        "epoch 1/2",
        "epoch 2/2",
    ]
    assert captured.out.splitlines()[-1].startswith("2 epochs (8000 updates) in")


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--labels", "threshold"], "--labels threshold makes separable classes"),
        (["--positive-rate", "0.5"], "--positive-rate applies to training in memory only"),
        (["--out", "figs"], "--out: training out of core draws no figures"),
        (["--noise", "1"], "--noise applies to linear models only"),
        (["--lr", "0.1"], "--lr applies to --solver sgd"),
        (["--chunks", "0"], "expected a positive integer, got '0'"),
        (["--solver", "bfgs"], "invalid choice: 'bfgs'"),
        (["--solver", "sgd", "--epochs", str(2**62)], "is too large"),
    ],
)
def test_bad_out_of_core_settings_fail_in_one_line(extra, needle, capsys, tmp_path):
    err = fails_in_one_line(["train", "logistic", "--samples", "1000", "--chunks", "500", *extra],
                            capsys)  # fmt: skip
    assert needle in err


def test_a_store_that_does_not_fit_the_command_is_named(tmp_path, capsys):
    store = tmp_path / "d.zarr"
    _store.write_zarr(store, "logistic", 100, 2, chunk_rows=50)
    err = fails_in_one_line(["train", "logistic", "--store", str(store), "--samples", "99"], capsys)
    assert "holds 100 samples" in err
    err = fails_in_one_line(["train", "linear", "--store", str(store)], capsys)
    assert "holds logistic data, not linear" in err
    (tmp_path / "junk").mkdir()
    err = fails_in_one_line(["train", "logistic", "--store", str(tmp_path / "junk")], capsys)
    assert "is not a store written by write_zarr" in err
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    err = fails_in_one_line(["train", "logistic", "--store", str(a_file / "d.zarr")], capsys)
    assert "is a file, not a directory" in err


def test_without_dask_the_extra_is_named_in_one_line(tmp_path):
    code = (
        "import sys; sys.modules['dask'] = None; sys.modules['dask.array'] = None\n"
        "from derivreg.cli import main\n"
        "main(['train', 'logistic', '--samples', '100', '--chunks', '50'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""}, check=False)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "derivreg train: error: fitting on Dask arrays needs Dask: pip install 'derivreg[dask]'"
    )
