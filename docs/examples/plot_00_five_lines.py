"""
Training in five lines
======================

Draw the lecture's 3-feature linear-regression data, train with the generated
MSE kernel (one pass of per-sample SGD, as the lecture does), and plot the
loss and the parameters against the true ones (dotted).
"""

from derivreg import data, plots, train

d = data.lecture("linear-n")
w, b, history = train.train(d.X, d.y, loss=d.loss, w0=d.w0, b0=d.b0, lr=d.lr)
print(f"learned w = {w.round(3)}, b = {b:.3f}; true w = {d.true_w.round(3)}, b = {d.true_b:.3f}")
fig = plots.loss_and_parameters(history, loss=d.loss, true_w=d.true_w, true_b=d.true_b)
