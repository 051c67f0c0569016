"""
Linear regression, one feature
==============================

The lecture's first experiment: 100 samples of :math:`y = 5x - 3` with
:math:`x \\sim N(0, 1)`, a random start, and one pass of per-sample gradient
descent with learning rate 0.01 using the update rule derived on the
:doc:`/derivations` page,

.. math:: w := w + 2\\alpha (y - \\hat{y}) x, \\qquad b := b + 2\\alpha (y - \\hat{y}).

One pass is not enough to reach the truth at this learning rate; the loss and
the parameters are still moving when the data run out.
"""

from derivreg.data import lecture
from derivreg.experiments import figures, run, summary

r = run(lecture("linear-1"))
print(summary(r))

# %%
# The model before every update, from violet (first) to red (last), the
# final model in black and the true line y = 5x - 3 dashed; then the loss of
# each sample before its update and the parameters against the true ones
# (dotted).
figs = figures(r)
