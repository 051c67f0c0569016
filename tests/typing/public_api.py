"""A typed user of derivreg's public API, written as the README and the docs use it.

Not a test module (pytest collects ``test_*.py``): ``mypy`` checks it (the
``files`` of ``[tool.mypy]`` in pyproject.toml), so that a public signature
that regresses to a union or to ``object`` fails the type check.  Each
``assert_type`` pins what a type checker must see there.  ``main()`` runs the
quick uses on small data (``tests/test_public_api.py``), so that they stay true
at run time too; the slow ones (the softmax derivation, a user's pair, writing
and checking kernels) are the other tests' to run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType
from typing import assert_type

import numpy as np
import sympy as sp

from derivreg import Derivation, History, codegen, derive, render
from derivreg.estimators import LinearRegressionSGD, LogisticRegressionSGD, PoissonRegressionSGD
from derivreg.inference import Inference, fisher_inference
from derivreg.kernels import KERNELS, bce, mse, softmax
from derivreg.multiclass import SoftmaxRegressionSGD
from derivreg.proof import Theorem
from derivreg.solvers import FitResult, KernelObjective, gradient_descent, newton
from derivreg.symbolic import REGISTRY, Pair, sigmoid, squared_error
from derivreg.symbolic.vector_derivation import VectorDerivation
from derivreg.testing import check_kernels
from derivreg.train import TrainResult, train

X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, -1.0], [3.0, 0.0], [4.0, 2.0], [5.0, 1.5]])
Y = X @ np.array([2.0, -1.0]) + 0.5  # a line: least squares recovers it
LABELS = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0])  # not separable in X
CLASSES = np.array(["a", "b", "c", "a", "b", "c"])


def derivations() -> None:
    d = derive("bce")  # a built-in name: a Derivation, not a union
    assert_type(d, Derivation)
    assert str(d.dJ_dz) == "-y + yhat"
    assert_type(d.canonical, bool)
    assert_type(render(d, "text"), str)
    assert_type(REGISTRY["mse"], Pair)
    name: str = "mse"  # any registered name: either kind, to be told apart
    either = derive(name)
    assert_type(either, Derivation | VectorDerivation)
    assert isinstance(either, Derivation)
    assert either.dJ_dz is not None


def training() -> None:
    result = train(X, Y, loss="mse", lr="auto", epochs=200, shuffle=True, seed=0)
    assert_type(result, TrainResult)
    w, b, history = result
    assert_type(w, np.ndarray)
    assert_type(b, float)
    assert_type(history, History)
    assert_type(history.loss, np.ndarray | None)
    assert np.allclose(w, [2.0, -1.0], atol=1e-2)
    # array-likes, a full-batch solver, a generator as the seed
    lists = train(X.tolist(), Y.tolist(), solver="newton", seed=np.random.default_rng(1))
    assert abs(lists.b - 0.5) < 1e-8


def estimators() -> None:
    reg = LinearRegressionSGD(solver="newton")
    assert_type(reg.fit(X, Y), LinearRegressionSGD)  # fit returns the estimator: chains type
    assert_type(reg.coef_, np.ndarray)
    assert_type(reg.intercept_, float)
    assert_type(reg.predict(X), np.ndarray)
    assert np.allclose(reg.coef_, [2.0, -1.0])
    clf = LogisticRegressionSGD(solver="newton")
    assert_type(clf.fit(X, LABELS).predict(X), np.ndarray)
    assert_type(clf.predict_proba(X), np.ndarray)
    counts = PoissonRegressionSGD(solver="newton")
    counts.fit(X, np.array([0.0, 1.0, 2.0, 1.0, 3.0, 4.0]))
    assert_type(counts.predict(X), np.ndarray)
    softmax_clf = SoftmaxRegressionSGD(solver="gd", epochs=50)
    softmax_clf.fit(X, CLASSES)
    assert_type(softmax_clf.coef_, np.ndarray)
    assert softmax_clf.coef_.shape == (3, 2)


def kernels() -> None:
    w = np.zeros(2)
    dJ_dw, dJ_db = bce.grad(X, LABELS, w, 0.0)
    assert_type(dJ_dw, np.ndarray)
    assert_type(dJ_db, float)
    assert_type(bce.loss(X, LABELS, w, 0.0), float)
    assert_type(bce.update(X, LABELS, w, 0.0, 0.1), tuple[np.ndarray, float])
    assert_type(mse.predict(X, w, 0.0), np.ndarray)
    assert_type(KERNELS["mse"], ModuleType)
    one_hot = (CLASSES[:, None] == np.array(["a", "b", "c"])).astype(float)
    dW, db = softmax.grad(X, one_hot, np.zeros((2, 3)), np.zeros(3))
    assert_type(dW, np.ndarray)
    assert_type(db, np.ndarray)


def solvers_and_inference() -> None:
    objective = KernelObjective(mse, X, Y)
    fit = gradient_descent(objective, np.zeros(3), tol=1e-10)
    assert_type(fit, FitResult)
    assert_type(newton(objective, np.zeros(3)), FitResult)
    inference = fisher_inference(mse, X, Y + np.linspace(-0.1, 0.1, 6), np.array([2.0, -1.0]), 0.5)
    assert_type(inference, Inference)
    assert_type(inference.stderr, np.ndarray)


def generated_code_and_proofs() -> None:
    d = derive("mse")
    assert_type(codegen.generate(d), str)
    module = codegen.compile(d)
    assert_type(module, ModuleType)
    x = sp.Symbol("x", real=True)
    claim = sp.StrictGreaterThan(x**2 + 1, 0, evaluate=False)
    theorem = Theorem("demo.square", "a square plus 1", statement=claim)
    assert_type(theorem.start(x**2 + 1).gt(0, "a square plus 1").check(), Theorem)


def slow_uses() -> None:
    """Type-checked only (see the module's docstring)."""
    assert_type(derive("softmax"), VectorDerivation)
    mine = Pair("sqsig", "Sigmoid output, squared error", sigmoid, squared_error)
    assert_type(derive(mine, features=1), Derivation)
    with tempfile.TemporaryDirectory() as where:
        written = codegen.write(mine, where)
        assert_type(written, list[Path])
    report = check_kernels(mse, REGISTRY["mse"], max_examples=2)
    assert_type(report, dict[str, str])


def main() -> None:
    """Run the quick uses above."""
    derivations()
    training()
    estimators()
    kernels()
    solvers_and_inference()
    generated_code_and_proofs()


if __name__ == "__main__":
    main()
