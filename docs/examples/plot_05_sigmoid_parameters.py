"""
What the sigmoid's parameters do
================================

:math:`\\sigma(wx + b) = \\sigma(w(x - (-b/w)))`: the bias moves the curve so
that it crosses 1/2 at the decision boundary :math:`x = -b/w`, and the weight
sets its steepness, :math:`w/4` at the boundary (proved in
``proofs/sigmoid_params.py``).
"""

from derivreg.plots import sigmoid_parameters

fig = sigmoid_parameters()
