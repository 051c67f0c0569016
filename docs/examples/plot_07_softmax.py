"""
Three classes: softmax regression
=================================

The lecture's next chapter: k classes.  The model's output is a vector,
:math:`z = W^T x + b` with :math:`W` of shape (n, k), :math:`\\hat{y} =
\\operatorname{softmax}(z)`, and the cross-entropy of a one-hot label; the
chain rule through :math:`\\partial \\hat{y} / \\partial z =
\\operatorname{diag}(\\hat{y}) - \\hat{y}\\hat{y}^T` gives the same cancellation
as logistic regression, :math:`\\partial J / \\partial z = \\hat{y} - y`
(derived step by step on the :doc:`/derivations` page), so per-sample SGD
updates

.. math:: W := W - \\alpha\\, x (\\hat{y} - y)^T, \\qquad b := b - \\alpha (\\hat{y} - y).

300 samples with 2 features, their labels drawn from a true softmax model
(so the maximum-likelihood estimate exists), 5 shuffled passes of the
generated loop ``derivreg/kernels/softmax_loop.py`` at half the per-sample
step-size bound :math:`4 / \\max \\|(x, 1)\\|^2`.  ``derivreg train softmax
--epochs 5 --shuffle --seed 0 --out DIR`` draws the same figures.
"""

from derivreg.plots.softmax import softmax_regions, softmax_training
from derivreg.softmax_run import draw, summary, train_softmax

d = draw(300, seed=0)
W, b, history = train_softmax(d.X, d.Y, epochs=5, shuffle=True, seed=0)  # lr: half the bound
print(summary(d, W, b, history))

# %%
# The decision regions: each point of the plane coloured by its most probable
# class, argmax of :math:`W^T x + b`.  Between two regions the boundary is
# the line :math:`z_c = z_d`; three classes meet at one point.  The learned
# boundaries are black, the true ones dashed gold; the dotted lines are the
# levels 0.5, 0.8 and 0.95 of the largest probability.
fig = softmax_regions(d.X, d.y, W, b, true_W=d.true_W, true_b=d.true_b)

# %%
# The loss of each sample before its update (grey) and its moving mean, the
# accuracy accumulated over the updates, and every parameter's track against
# its dotted true value.  Only differences between the columns of :math:`W`
# matter (adding one vector to every column leaves the softmax unchanged);
# the truth has columns summing to zero, and SGD from zero keeps the learned
# columns summing to zero too, so the tracks compare with the truth directly.
fig = softmax_training(history, true_W=d.true_W, true_b=d.true_b)
