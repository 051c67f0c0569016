"""
Logistic regression, one feature
================================

The lecture's third experiment: 500 samples with :math:`x \\sim N(0.6, 1)`,
labelled 1 to the right of the true decision boundary :math:`-b/w = 0.6`
(true :math:`w = 5`, :math:`b = -3`), and one pass of per-sample gradient
descent on the binary cross-entropy.  Because
:math:`\\partial J / \\partial z = \\hat{y} - y`, the update has the same shape as
linear regression's, without the factor 2:
:math:`w := w + \\alpha (y - \\hat{y}) x`.

With threshold labels the data are separable: the loss has no minimiser, and
more passes would make :math:`|w|` grow without bound.  What converges is the
boundary :math:`-b/w`, printed below next to the true 0.6.  The lecture's own
labels put the boundary at 0.72 instead (see :doc:`/errata`).
"""

from derivreg.data import lecture
from derivreg.experiments import figures, run, summary

r = run(lecture("logistic-1"))
print(summary(r))

# %%
# The sigmoid before every update over the labelled data, with the true
# sigmoid and its boundary x = 0.6 dashed; then the loss and parameters along
# the way.
figs = figures(r)
