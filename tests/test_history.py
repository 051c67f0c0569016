"""History says how the steps were chosen: Armijo backtracking, or not (issue 12, section 4).

With ``lr="auto"`` a pair whose curvature is unbounded (Poisson, Gamma) has no
safe constant SGD step, so the estimators run full-batch gradient descent with
a backtracking (Armijo) line search instead; ``History.solver`` says ``"gd"``
and ``History.line_search`` says ``"armijo"``.
"""

from __future__ import annotations

import numpy as np
import pytest

from derivreg.kernels import KERNELS
from derivreg.train import train


def counts(seed: int = 0, m: int = 80) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 2)) / 2
    return X, rng.poisson(np.exp(X @ np.array([0.5, -0.3]) + 0.2)).astype(np.float64)


@pytest.mark.parametrize(
    ("solver", "line_search"), [("gd", "armijo"), ("newton", "armijo"), ("sgd", None)]
)
def test_train_records_whether_armijo_backtracking_chose_the_steps(solver, line_search):
    X, y = counts()
    options = {"lr": 0.01, "epochs": 2} if solver == "sgd" else {"tol": 1e-8}
    history = train(X, y, loss=KERNELS["poisson"], solver=solver, **options).history
    assert (history.solver, history.line_search) == (solver, line_search)


def test_lbfgs_leaves_its_line_search_to_scipy():
    pytest.importorskip("scipy")
    X, y = counts()
    history = train(X, y, loss=KERNELS["poisson"], solver="lbfgs", tol=1e-8).history
    assert (history.solver, history.line_search) == ("lbfgs", None)


@pytest.mark.parametrize("name", ["poisson", "gamma"])
def test_auto_lr_on_unbounded_curvature_says_armijo_ran(name):
    pytest.importorskip("sklearn")
    from derivreg.estimators import SGDRegressor

    X, y = counts()
    y = y + 0.5  # Gamma's labels are > 0
    fitted = SGDRegressor(loss=name).fit(X, y)  # lr="auto", solver="sgd" by default
    assert (fitted.history_.solver, fitted.history_.line_search) == ("gd", "armijo")
    from derivreg.solvers import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="gd stopped after 1 iterations"):
        partial = SGDRegressor(loss=name).partial_fit(X, y)  # one step of it
    assert (partial.history_.solver, partial.history_.line_search) == ("gd", "armijo")
    bounded = SGDRegressor(loss="mse", tol=None).fit(X, y)  # a safe constant step: SGD
    assert (bounded.history_.solver, bounded.history_.line_search) == ("sgd", None)
