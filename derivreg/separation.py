"""Whether two classes are linearly separable, so that the logistic MLE does not exist.

If some ``(w, b)`` puts every positive on one side of a hyperplane and every
negative on the other, scaling it up drives the mean binary cross-entropy to
0 without reaching it: there is no maximum-likelihood estimate, and ``|w|``
grows with the iteration budget (the lecture's n-feature run, erratum 3).
:func:`is_separable` decides it exactly with a linear program (SciPy's
HiGHS): the classes are separable when some ``(w, b)`` has
``s_i (x_i . w + b) >= 1`` for every sample, ``s_i = +-1`` its class.

Examples
--------
>>> import numpy as np
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
>>> is_separable(X, np.array([0, 0, 1, 1]))
True
>>> is_separable(X, np.array([0, 1, 0, 1]))
False
"""

from __future__ import annotations

import numpy as np

from derivreg._sparse import as_csr, issparse

__all__ = ["SeparationWarning", "is_separable", "separation_message"]


class SeparationWarning(UserWarning):
    """The classes are linearly separable: the maximum-likelihood estimate does not exist.

    Examples
    --------
    >>> issubclass(SeparationWarning, UserWarning)
    True
    """


def separation_message(n_samples: int) -> str:
    """Return the warning's text: what it means and what to do.

    Examples
    --------
    >>> separation_message(100)[:40]
    'the 100 samples are linearly separable: '
    """
    return (
        f"the {n_samples} samples are linearly separable: the maximum-likelihood estimate "
        "does not exist and |w| grows without bound as the fit goes on; only the "
        "boundary's direction is determined. Add a penalty (penalty='l2') for finite "
        "coefficients."
    )


def is_separable(X: np.ndarray, y: np.ndarray) -> bool:
    """Whether some hyperplane ``x . w + b = 0`` strictly separates the two classes of ``y``.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The samples.
    y : array_like of shape (m,)
        Two classes, 0 and 1 (any two values: the larger is the positive class).

    Returns
    -------
    bool
        True when the linear program ``s_i (x_i . w + b) >= 1`` is feasible.

    Raises
    ------
    ImportError
        Without SciPy (the extra 'scipy').
    ValueError
        If ``y`` does not hold exactly two classes, or the shapes disagree.

    Examples
    --------
    >>> is_separable([[1.0, 0.0], [0.0, 1.0]], [1, 0])
    True
    """
    try:
        from scipy.optimize import linprog
    except ImportError:  # pragma: no cover - exercised without SciPy
        raise ImportError(
            "the separation check needs SciPy: pip install 'derivreg[scipy]'"
        ) from None
    sparse = issparse(X)  # then SciPy is loaded already, and the LP takes it sparse
    X = as_csr("X", X) if sparse else np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be 2-D and y of shape ({X.shape[0]},); got {X.shape}, {y.shape}")
    classes = np.unique(y)
    if classes.size != 2:
        raise ValueError(f"y must hold exactly two classes, got {classes.size}")
    s = np.where(y == classes[1], 1.0, -1.0)
    # Variables (w, b), free; constraints -s_i (x_i . w + b) <= -1; objective 0 (feasibility).
    if sparse:
        import scipy.sparse

        ones = scipy.sparse.csr_matrix(np.ones((X.shape[0], 1)))
        A = scipy.sparse.csr_matrix(scipy.sparse.hstack([X, ones]).multiply(-s[:, None]))
    else:
        A = -s[:, None] * np.hstack([X, np.ones((X.shape[0], 1))])
    n = A.shape[1]
    found = linprog(
        np.zeros(n), A_ub=A, b_ub=-np.ones(X.shape[0]), bounds=[(None, None)] * n, method="highs"
    )
    return bool(found.status == 0)
