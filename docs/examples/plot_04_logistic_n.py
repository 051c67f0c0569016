"""
Logistic regression, three features
===================================

The lecture's fourth experiment: true weights and bias from :math:`U(-1, 1)`,
1000 samples with :math:`x \\sim N(0, I_3)`, labels :math:`y = [z > 0]`, one
pass of per-sample gradient descent with learning rate 0.03.

The labels are a deterministic function of :math:`z`, so the classes are
separable: the loss has no minimiser, :math:`|w|` grows without bound, and the
run ends near three times the true weights.  The direction is right (cosine
close to 1); the scale is not.  Labels drawn as Bernoulli(:math:`\\sigma(z)`)
have a maximum-likelihood estimate, which approaches the true parameters.
"""

from derivreg.data import lecture, logistic
from derivreg.experiments import figures, run, summary

r = run(lecture("logistic-n"))
print(summary(r))

# %%
# The loss before each update and the parameters, then the loss with the
# accuracy accumulated during training.
figs = figures(r)

# %%
# The same truth with labels drawn as Bernoulli(:math:`\sigma(z)`): the loss
# now has a minimiser, the maximum-likelihood estimate, which is within about
# :math:`1/\sqrt{m}` of the truth.  20000 samples, 30 passes of mini-batch
# gradient descent (batches of 100, learning rate 0.5).
bern = run(logistic(3, 20_000, labels="bernoulli", seed=1), epochs=30, batch_size=100, lr=0.5)
print(summary(bern))
