r"""Data sets past memory: a synthetic GLM written to zarr chunk by chunk, read back by chunk.

:func:`write_zarr` draws a linear, logistic or Poisson data set of any size
into a zarr store one chunk of rows at a time, so that no more than one
chunk is ever in memory; chunk ``i`` is drawn from its own seed
``SeedSequence(seed, spawn_key=(i,))``, so the data do not depend on how
many chunks were written before (or by whom).  :func:`open_zarr` and
:func:`open_npy` give the data back as row-chunked ``dask.array``\ s that
read one chunk per task.  These need the extra ``dask``
(``pip install 'derivreg[dask]'``); importing this module imports neither
zarr nor Dask.  They are re-exported by :mod:`derivreg.data`.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "d.zarr"
>>> info = write_zarr(path, "logistic", n_samples=1000, n_features=3, chunk_rows=400, seed=0)
>>> X, y = open_zarr(path)
>>> X.shape, X.chunks[0], sorted(set(y.compute().tolist()))
((1000, 3), (400, 400, 200), [0.0, 1.0])
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from derivreg._draws import _check_int, _sigmoid
from derivreg.kernels import bce, mse, poisson

if TYPE_CHECKING:  # pragma: no cover - imported where a bar is asked for
    from derivreg.progress import Progress

__all__ = ["KINDS", "StoreInfo", "open_npy", "open_zarr", "store_info", "synthetic", "write_zarr"]

#: A kind of data set: "linear", "logistic" or the Poisson kernel's ``NAME`` (a key of KINDS).
Kind = str

#: What each kind of data set is drawn from, and the kernel it is fitted with: the loss
#: names are the generated kernels' ``NAME`` constants (no runtime module spells a loss).
KINDS: dict[str, str] = {"linear": mse.NAME, "logistic": bce.NAME, poisson.NAME: poisson.NAME}

#: Spread of the true weights: ``w_j ~ U(-1, 1) * SCALE / sqrt(n)``, so that
#: ``z = x.w + b`` has a standard deviation near ``SCALE / sqrt(3)`` whatever n
#: (moderate logits; Poisson means ``exp(z)`` of order 1).
SCALE = {"linear": 2.0, "logistic": 2.0, poisson.NAME: 0.5}


@dataclass(frozen=True)
class StoreInfo:
    """What :func:`write_zarr` wrote: sizes, the true parameters and the loss to fit."""

    path: Path
    kind: str
    loss: str
    n_samples: int
    n_features: int
    chunk_rows: int
    true_w: np.ndarray
    true_b: float
    seed: int


def _truth(kind: str, n: int, seed: int) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**32 - 1,)))
    w = rng.uniform(-1.0, 1.0, n) * SCALE[kind] / math.sqrt(n)
    return w, float(rng.uniform(-0.5, 0.5))


def draw_chunk(  # noqa: PLR0917 - the store's description, one chunk of it
    kind: str, true_w: np.ndarray, true_b: float, seed: int, index: int, rows: int, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """Draw chunk ``index`` (``rows`` rows): ``X ~ N(0, 1)`` and its targets.

    Examples
    --------
    >>> X, y = draw_chunk("poisson", np.zeros(2), 0.0, 0, 3, 5, 1.0)
    >>> X.shape, y.shape, bool((y >= 0).all())
    ((5, 2), (5,), True)
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
    X = rng.standard_normal((rows, true_w.size))
    z = X @ true_w + true_b
    if kind == "linear":
        return X, z + noise * rng.standard_normal(rows)
    if kind == "logistic":
        return X, (rng.uniform(size=rows) < _sigmoid(z)).astype(np.float64)
    return X, rng.poisson(np.exp(z)).astype(np.float64)


def _check(kind: object, noise: object) -> float:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < math.inf:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def write_zarr(  # long by its docstring only: the code is some 30 lines
    path: str | os.PathLike[str],
    kind: Kind = "logistic",
    n_samples: int = 1_000_000,
    n_features: int = 16,
    *,
    chunk_rows: int = 1_000_000,
    seed: int = 0,
    noise: float = 1.0,
    overwrite: bool = False,
    progress: bool = False,
    stream: IO[str] | None = None,
) -> StoreInfo:
    """Write a synthetic data set to a zarr store, one chunk of rows at a time.

    Parameters
    ----------
    path : path-like
        The store (a directory) to create.
    kind : {"logistic", "poisson", "linear"}, default "logistic"
        Labels ``Bernoulli(sigma(z))``, counts ``Poisson(exp(z))``, or
        ``z + noise * N(0, 1)``, with ``z = x.w + b`` and ``X ~ N(0, 1)``.
    n_samples, n_features : int
        Rows and columns of ``X``: any size; only one chunk is in memory.
    chunk_rows : int, default 1,000,000
        Rows per chunk (the store's and the dask arrays' chunks).
    seed : int >= 0, default 0
        Seed of the true parameters and of every chunk.
    noise : float, default 1.0
        Standard deviation of the linear kind's noise.
    overwrite : bool, default False
        Replace an existing store (else a ``FileExistsError``).
    progress : bool, default False
        Show a progress bar over the chunks (:func:`derivreg.progress.progress`).
    stream : text stream, optional
        Where the progress goes (default ``sys.stderr``).

    Returns
    -------
    StoreInfo
        The sizes, the true ``w`` and ``b``, and the kernel to fit them with.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.zarr"
    >>> write_zarr(path, "poisson", 100, 2, chunk_rows=30).loss
    'poisson'
    """
    zarr = _require_zarr()
    noise = _check(kind, noise)
    m = _check_int("n_samples", n_samples, 1)
    n = _check_int("n_features", n_features, 1)
    rows = min(_check_int("chunk_rows", chunk_rows, 1), m)
    seed = _check_int("seed", seed, 0)
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it")
    w, b = _truth(kind, n, seed)
    group = zarr.open_group(str(path), mode="w")
    X = group.create_array("X", shape=(m, n), chunks=(rows, n), dtype="f8", compressors=None)
    y = group.create_array("y", shape=(m,), chunks=(rows,), dtype="f8", compressors=None)
    attrs = {"kind": kind, "loss": KINDS[kind], "true_w": w.tolist(), "true_b": b, "seed": seed}
    group.attrs.update({**attrs, "noise": noise, "complete": False})
    shown: _NoBar | Progress = _NoBar()
    if progress:
        from derivreg.progress import progress as bar

        shown = bar(-(-m // rows), desc=f"writing {path.name}", unit="chunk", stream=stream)
    with shown:
        for i, lo in enumerate(range(0, m, rows)):
            hi = min(lo + rows, m)
            X[lo:hi], y[lo:hi] = draw_chunk(kind, w, b, seed, i, hi - lo, noise)
            shown.update()
    group.attrs["complete"] = True  # an interrupted write is refused by open_zarr
    return StoreInfo(path, kind, KINDS[kind], m, n, rows, w, b, seed)


class _NoBar:
    def update(self, n: int = 1) -> None:
        """Nothing shown."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _require_zarr() -> Any:
    try:
        import zarr
    except ImportError:  # pragma: no cover - exercised without zarr
        raise ImportError("zarr stores need zarr: pip install 'derivreg[dask]'") from None
    return zarr


def store_info(path: str | os.PathLike[str]) -> StoreInfo:
    """Read the description :func:`write_zarr` left in a store.

    Raises a ``ValueError`` for a store it did not write or did not finish.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "l.zarr"
    >>> _ = write_zarr(path, "linear", 10, 2, chunk_rows=4)
    >>> store_info(path).n_samples, store_info(path).chunk_rows
    (10, 4)
    """
    zarr = _require_zarr()
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"no zarr store at {str(path)!r}")
    try:
        group = zarr.open_group(str(path), mode="r")
        attrs, X = dict(group.attrs), group["X"]
    except (KeyError, ValueError, OSError, TypeError) as err:
        raise ValueError(f"{str(path)!r} is not a store written by write_zarr: {err}") from None
    if "loss" not in attrs or not attrs.get("complete"):
        raise ValueError(
            f"{str(path)!r} is not a complete store written by write_zarr "
            "(an interrupted write?); write it again with overwrite=True"
        )
    m, n = X.shape
    true_w = np.array(attrs["true_w"], dtype=np.float64)
    kind, seed = str(attrs["kind"]), int(attrs["seed"])
    return StoreInfo(
        path, kind, str(attrs["loss"]), m, n, X.chunks[0], true_w, float(attrs["true_b"]), seed
    )


def open_zarr(path: str | os.PathLike[str], *, chunk_rows: int | None = None) -> tuple[Any, Any]:
    """Return ``(X, y)`` of a zarr store as row-chunked dask arrays (one read per chunk).

    ``chunk_rows`` (default: the store's chunks) should be a multiple of the
    store's chunk rows, so that no stored chunk is read twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "l.zarr"
    >>> _ = write_zarr(path, "linear", 10, 2, chunk_rows=4)
    >>> open_zarr(path, chunk_rows=8)[0].chunks
    ((8, 2), (2,))
    """
    from derivreg.distributed import require_dask

    da = require_dask()
    info = store_info(path)
    rows = info.chunk_rows if chunk_rows is None else _check_int("chunk_rows", chunk_rows, 1)
    X = da.from_zarr(str(info.path), component="X", chunks=(rows, info.n_features))
    return X, da.from_zarr(str(info.path), component="y", chunks=(rows,))


def _npy_rows(path: str, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` of a .npy file, read through a memory map (only those pages)."""
    return np.array(np.load(path, mmap_mode="r")[lo:hi])


def open_npy(
    X_path: str | os.PathLike[str], y_path: str | os.PathLike[str], *, chunk_rows: int
) -> tuple[Any, Any]:
    """Return ``(X, y)`` of two ``.npy`` files as row-chunked dask arrays over memory maps.

    Each task opens the file, maps it and copies its rows, so a task carries
    a path, never the array (a ``np.memmap`` pickles its whole data).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> np.save(d / "X.npy", np.ones((5, 2))); np.save(d / "y.npy", np.zeros(5))
    >>> X, y = open_npy(d / "X.npy", d / "y.npy", chunk_rows=2)
    >>> X.chunks, float(X.sum().compute())
    (((2, 2, 1), (2,)), 10.0)
    """
    from derivreg.distributed import require_dask

    da = require_dask()
    import dask

    rows = _check_int("chunk_rows", chunk_rows, 1)
    out = []
    for path, ndim in ((X_path, 2), (y_path, 1)):
        head = np.load(path, mmap_mode="r")  # reads the header only
        if head.ndim != ndim:
            raise ValueError(f"{str(path)!r} holds a {head.ndim}-D array; expected {ndim}-D")
        m = head.shape[0]
        parts = [
            da.from_delayed(
                dask.delayed(_npy_rows, pure=True)(str(path), lo, min(lo + rows, m)),
                shape=(min(lo + rows, m) - lo, *head.shape[1:]),
                dtype=head.dtype,
            )
            for lo in range(0, m, rows)
        ]
        out.append(da.concatenate(parts, axis=0))
    return out[0], out[1]


def synthetic(
    kind: Kind,
    n_samples: int,
    n_features: int,
    *,
    chunk_rows: int,
    seed: int = 0,
    noise: float = 1.0,
) -> tuple[Any, Any, np.ndarray, float]:
    """Return ``(X, y, true_w, true_b)``: :func:`write_zarr`'s data as lazy dask arrays.

    Each chunk is drawn by its own task when it is needed (every pass draws
    it again, the same numbers): data of any size with nothing stored.

    Examples
    --------
    >>> X, y, w, b = synthetic("logistic", 10, 2, chunk_rows=4)
    >>> X.chunks[0], bool(np.isin(y.compute(), (0.0, 1.0)).all())
    ((4, 4, 2), True)
    """
    from derivreg.distributed import require_dask

    da = require_dask()
    import dask

    noise = _check(kind, noise)
    m = _check_int("n_samples", n_samples, 1)
    n = _check_int("n_features", n_features, 1)
    rows = min(_check_int("chunk_rows", chunk_rows, 1), m)
    w, b = _truth(kind, n, _check_int("seed", seed, 0))
    Xs, ys = [], []
    for i, lo in enumerate(range(0, m, rows)):
        k = min(lo + rows, m) - lo
        pair = dask.delayed(draw_chunk, pure=True, nout=2)(kind, w, b, seed, i, k, noise)
        Xs.append(da.from_delayed(pair[0], shape=(k, n), dtype=np.float64))
        ys.append(da.from_delayed(pair[1], shape=(k,), dtype=np.float64))
    return da.concatenate(Xs), da.concatenate(ys), w, b
