"""Sparse X (``scipy.sparse`` CSR or CSC) for the runtime, with NumPy only at import.

SciPy is an optional extra, so this module never imports it: a value can be a
SciPy sparse matrix or array only if ``scipy.sparse`` is already in
:data:`sys.modules`, so :func:`issparse` asks that module, when loaded, and
answers False otherwise.  Dense input never loads SciPy.

The accepted formats follow scikit-learn's SGD estimators
(``check_array(accept_sparse=["csr", "csc"])``): CSR and CSC, matrices
(``csr_matrix``) and arrays (``csr_array``); any other format (COO, LIL,
DOK, BSR, DIA) is converted, as ``check_array`` converts it, to the first
accepted one.  Every consumer then works on CSR: a CSC input is converted
once (one copy of its ``nnz`` stored entries, never a dense array), since
the gradient's blocks and the per-sample loop visit rows.  The caller's
matrix is never modified: a matrix whose indices are unsorted or hold
duplicates is canonicalized in a copy.

Examples
--------
>>> import numpy as np
>>> issparse(np.eye(2))
False
>>> stored(np.ones(2)).tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import sys
from typing import Any, TypeGuard

import numpy as np

__all__ = [
    "ACCEPTED",
    "abs_max",
    "as_csr",
    "column_sums",
    "dense_only",
    "issparse",
    "ldexp_along",
    "row",
    "row_bytes",
    "row_norms2",
    "scaled_column_sums",
    "stored",
]

#: The sparse formats taken as they are (after scikit-learn's SGD estimators).
ACCEPTED = ("csr", "csc")


def issparse(value: object) -> TypeGuard[Any]:
    """Whether ``value`` is a SciPy sparse matrix or array, without importing SciPy.

    To a type checker ``value`` is then Any: SciPy ships no types.

    Examples
    --------
    >>> issparse([[1.0]])
    False
    """
    if type(value) is np.ndarray:  # the common case, without asking SciPy
        return False
    module = sys.modules.get("scipy.sparse")
    return module is not None and bool(module.issparse(value))


def dense_only(name: str) -> ValueError:
    """Return scikit-learn's error for sparse input where dense data is required.

    Examples
    --------
    >>> str(dense_only("y"))[:36]
    'Sparse data was passed for y, but de'
    """
    return ValueError(
        f"Sparse data was passed for {name}, but dense data is required. "
        "Use '.toarray()' to convert to a dense numpy array."
    )


def as_csr(name: str, value: Any, ndim: int = 2) -> Any:
    """Return sparse ``value`` as float64 CSR in canonical format; never modify ``value``.

    Only X may be sparse (``ndim == 2``); sparse y or w get scikit-learn's
    "dense data is required" error.  Complex data are refused; integer or
    bool data are converted (a copy); CSR float64 input in canonical format
    is returned as it is (no copy).  Finiteness is checked by the callers,
    on :func:`stored`, with the same messages as for dense input.

    Raises
    ------
    ValueError
        Naming ``name``: sparse where dense is required, complex data, or
        not 2-D.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = sp.coo_matrix(np.array([[0, 2], [3, 0]]))
    >>> C = as_csr("X", X)
    >>> C.format, C.dtype.name, X.format, X.dtype.name
    ('csr', 'float64', 'coo', 'int64')
    """
    if ndim != 2:
        raise dense_only(name)
    if value.dtype.kind == "c":
        raise ValueError(f"{name} must be real, got a complex array")
    if value.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (m, n), got shape {value.shape}")
    if value.format not in ACCEPTED:
        value = value.asformat(ACCEPTED[0])  # check_array's conversion: a new matrix
    if value.format != "csr":
        value = value.tocsr()  # rows are what the kernels and loops visit
    if value.dtype != np.float64:
        value = value.astype(np.float64)  # a copy
    if not value.has_canonical_format:  # unsorted indices or duplicates: fix a copy
        value = value.copy()
        value.sum_duplicates()
    return value


def stored(value: Any) -> np.ndarray:
    """Return the stored entries of a sparse ``value`` (``.data``), else ``value`` itself.

    Finiteness checks run on these: the implicit zeros are finite.

    Examples
    --------
    >>> float(stored(np.float64(2.0)))
    2.0
    """
    if type(value) is np.ndarray:
        return value
    return value.data if issparse(value) else value


def row_bytes(X: Any) -> int:
    """Return the bytes one row of X takes in memory, on average; at least 1.

    Dense: ``8 n``.  CSR: the row's share of ``data``, ``indices`` and ``indptr``,
    so that the kernels' blocks of about ``BLOCK_BYTES`` hold as many rows as
    fit, not as many as a dense X would (a block costs SciPy a slice and two
    products, whatever its rows).

    Examples
    --------
    >>> row_bytes(np.zeros((3, 4)))
    32
    """
    if not issparse(X):
        return 8 * X.shape[1]
    stored = X.data.itemsize + X.indices.itemsize
    return max(1, (stored * X.nnz + X.indptr.itemsize * X.shape[0]) // max(1, X.shape[0]))


def row(X: Any, i: int) -> np.ndarray:
    """Return row ``i`` of X as a dense 1-D array (one row only: n floats).

    Examples
    --------
    >>> row(np.array([[1.0, 2.0], [3.0, 4.0]]), 1).tolist()
    [3.0, 4.0]
    """
    if not issparse(X):
        return X[i]
    start, stop = X.indptr[i], X.indptr[i + 1]
    out = np.zeros(X.shape[1])
    np.add.at(out, X.indices[start:stop], X.data[start:stop])
    return out


def row_norms2(X: Any) -> np.ndarray:
    """Return ``||x_i||^2`` for each row of X, dense or CSR, without densifying X.

    Examples
    --------
    >>> row_norms2(np.array([[3.0, 4.0], [1.0, 0.0]])).tolist()
    [25.0, 1.0]
    """
    if not issparse(X):
        return np.einsum("ij,ij->i", X, X)
    X = as_csr("X", X)  # canonical: no duplicate entries, so the squares add up per row
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return np.bincount(rows, weights=X.data * X.data, minlength=X.shape[0])


# --- the kernels' overflow paths (derivreg/kernels/_checks.py): rare, and never densifying X


def abs_max(X: Any, axis: int) -> np.ndarray:
    """Return ``max |X|`` along ``axis`` (0: per column, 1: per row) as a 1-D array.

    A sparse X's implicit zeros count as 0; so does an empty row or column.

    Examples
    --------
    >>> abs_max(np.array([[1.0, -3.0], [2.0, 0.0]]), 1).tolist()
    [3.0, 2.0]
    """
    if not issparse(X):
        return np.max(np.abs(X), axis=axis) if X.shape[axis] else np.zeros(X.shape[1 - axis])
    X = as_csr("X", X)
    size = X.shape[1 - axis]
    out = np.zeros(size)
    where = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr)) if axis == 1 else X.indices
    np.maximum.at(out, where, np.abs(X.data))
    return out


def _per_entry(X: Any, values: np.ndarray, axis: int) -> np.ndarray:
    """Return, per stored entry of CSR X, the value of its row (axis 1) or column (axis 0)."""
    if axis == 1:
        return np.repeat(np.asarray(values), np.diff(X.indptr))
    return np.asarray(values)[X.indices]


def ldexp_along(X: Any, exponents: np.ndarray, axis: int) -> Any:
    """Return X with each row (``axis=1``) or column (``axis=0``) times ``2**exponents``.

    Exact (powers of two) but below the normal range; X is not modified, and
    a sparse X stays sparse (its stored entries are scaled, in a copy).

    Examples
    --------
    >>> ldexp_along(np.array([[1.0, 2.0], [4.0, 8.0]]), np.array([1, -2]), 1).tolist()
    [[2.0, 4.0], [1.0, 2.0]]
    """
    exponents = np.asarray(exponents)
    if not issparse(X):
        return np.ldexp(X, exponents[:, None] if axis == 1 else exponents[None, :])
    X = as_csr("X", X)
    out = X.copy()
    out.data = np.ldexp(X.data, _per_entry(X, exponents, axis))
    return out


def column_sums(d: np.ndarray, X: Any) -> np.ndarray:
    """Return ``sum_i d_i X_ij`` for each column j, dense or CSR, without densifying X.

    ``d_i * 0 = 0`` even where d_i is infinite: a feature that is 0 takes no part.

    Examples
    --------
    >>> column_sums(np.array([np.inf, 1.0]), np.array([[0.0, 1.0], [2.0, 0.0]])).tolist()
    [2.0, inf]
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if not issparse(X):
            return np.sum(np.where(X == 0.0, 0.0, d[:, None] * X), axis=0)
        X = as_csr("X", X)
        terms = _per_entry(X, d, 1) * X.data
        terms = np.where(X.data == 0.0, 0.0, terms)
        return np.bincount(X.indices, weights=terms, minlength=X.shape[1])


def scaled_column_sums(d: np.ndarray, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``sum_i d_i X_ij`` for each column j as ``(s, p)``: the sum is ``s_j 2**p_j``.

    Each term is taken at its own scale: ``d_i`` and ``X_ij`` split into their
    mantissas and powers of two (exact), the mantissas multiplied (one
    rounding, in [0.25, 1)), and every term of column j scaled by the power of
    the column's largest term, so no product or partial sum overflows and a
    term is lost only below TINY times that largest term.  (Scaling ``d`` by
    its largest entry and X by its columns' would lose ``5e-324 * 1.8e308``
    next to ``1e308 * 5e-324``: terms of the size of the result.)  Dense or
    CSR, X is not densified or modified; only stored entries take part.

    Examples
    --------
    >>> s, p = scaled_column_sums(np.array([5e-324, 1e308]), np.array([[1.5e308], [5e-324]]))
    >>> print(f"{float(np.ldexp(s, p)[0]):.4g}")  # 7.4e-16 + 4.9e-16: each term at its scale
    1.235e-15
    """
    m, n = X.shape
    if issparse(X):
        X = as_csr("X", X)
        rows, cols, data = np.repeat(np.arange(m), np.diff(X.indptr)), X.indices, X.data
    else:
        rows, cols = np.repeat(np.arange(m), n), np.tile(np.arange(n), m)
        data = np.ravel(X)
    (fd, ed), (fx, ex) = np.frexp(d), np.frexp(data)
    f, e = fd[rows] * fx, ed[rows] + ex
    none = -(2**20)  # the power of a 0 term: it sets no scale
    e = np.where(f == 0, none, e)
    top = np.full(n, none)
    np.maximum.at(top, cols, e)
    top = np.where(top == none, 0, top)
    terms = np.ldexp(f, np.maximum(e - top[cols], none))
    return np.bincount(cols, weights=terms, minlength=n), top
