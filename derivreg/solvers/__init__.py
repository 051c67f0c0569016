"""Full-batch solvers over the generated kernels: gradient descent, Newton, L-BFGS.

The solvers are plain functions of an objective (the mean loss as a function
of ``theta = (w, b)``); the objective is where the data live, in memory
(:class:`KernelObjective`) or on Dask (:class:`derivreg.distributed.DaskObjective`).
No solver names a loss: what it knows of one comes from its kernel module.

Examples
--------
>>> import numpy as np
>>> from derivreg.kernels import KERNELS
>>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
>>> r = gradient_descent(KernelObjective(KERNELS["mse"], X, y), np.zeros(2), tol=1e-10)
>>> np.round(r.theta, 6)
array([2., 1.])
"""

from derivreg.solvers.methods import Objective as Objective
from derivreg.solvers.methods import gradient_descent as gradient_descent
from derivreg.solvers.methods import lbfgs as lbfgs
from derivreg.solvers.methods import newton as newton
from derivreg.solvers.objective import Evaluation as Evaluation
from derivreg.solvers.objective import KernelObjective as KernelObjective
from derivreg.solvers.objective import block_sums as block_sums
from derivreg.solvers.objective import split_theta as split_theta
from derivreg.solvers.result import ConvergenceWarning as ConvergenceWarning
from derivreg.solvers.result import FitResult as FitResult

__all__ = [
    "ConvergenceWarning",
    "Evaluation",
    "FitResult",
    "KernelObjective",
    "Objective",
    "block_sums",
    "gradient_descent",
    "lbfgs",
    "newton",
    "split_theta",
]
