"""
Linear regression, three features
=================================

The lecture's second experiment: true weights and bias drawn from
:math:`U(-3, 3)`, 100 samples with :math:`x \\sim N(0, I_3)`, one pass of
per-sample gradient descent with learning rate 0.1.  The vector form of the
update, :math:`\\vec{w} := \\vec{w} + 2\\alpha (y - \\hat{y}) \\vec{x}`, is the
generated kernel's ``update``.
"""

from derivreg.data import lecture
from derivreg.experiments import figures, run, summary

r = run(lecture("linear-n"))
print(summary(r))

# %%
# The per-sample loss before each update, and each parameter against its true
# value (dotted).
figs = figures(r)
