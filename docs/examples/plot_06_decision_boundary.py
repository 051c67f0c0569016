"""
A decision boundary in two features
===================================

With two features the boundary :math:`x \\cdot w + b = 0` is a line.  Train
logistic regression on 1000 samples of a balanced 2-feature problem and draw
the data, the model's probability :math:`P(y = 1 \\mid x)`, the learned
boundary (black) and the true one (dashed gold, drawn on top).
"""

from derivreg.data import logistic
from derivreg.experiments import DECISION_BOUNDARY_SEED, figures, run, summary

r = run(logistic(2, 1000, seed=DECISION_BOUNDARY_SEED))
print(summary(r))
figs = {k: v for k, v in figures(r).items() if k.endswith("boundary")}
