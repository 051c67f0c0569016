"""The lecture's figures, redrawn for current Matplotlib, and two more.

Every function returns a :class:`matplotlib.figure.Figure` built without
``pyplot`` (no global state, nothing is shown; save it with
``fig.savefig(path)``).  Models are evaluated with the generated kernels'
``predict``, the same code that trained them.  Where the truth is known it
is drawn dashed, on top, in a contrasting colour.

===========================  ====================================================
function                     figure
===========================  ====================================================
:func:`model_over_data`      the data, with the model before every update drawn
                             over it, first to last in a rainbow colormap; the
                             true line or sigmoid and its boundary
:func:`loss_and_parameters`  loss per update; below it the parameter tracks
                             against their dotted true values (at most
                             :data:`MAX_TRACKS`, then the distance to the truth)
:func:`loss_and_accuracy`    loss per update; the accumulated and the final
                             model's accuracy
:func:`sigmoid_parameters`   how w steepens the classifier's curve and b
                             shifts it, with the boundary marked
:func:`decision_boundary`    a 2-feature logistic problem: probability map,
                             learned and true boundaries
:func:`softmax_regions`      a 2-feature k-class problem: the regions of the
                             most probable class, learned and true boundaries
:func:`softmax_training`     softmax SGD: loss, accumulated accuracy, the
                             tracks of every W_ic and b_c
===========================  ====================================================

The first three live in :mod:`derivreg.plots.training`, the next two in
:mod:`derivreg.plots.logistic`, the softmax figures in
:mod:`derivreg.plots.softmax`.  The lecture's style ``'seaborn'`` is called
``'seaborn-v0_8'`` since Matplotlib 3.6; :data:`STYLE` is used.

Examples
--------
>>> from derivreg.data import lecture
>>> from derivreg.train import train
>>> d = lecture("linear-1")
>>> w, b, h = train(d.X, d.y, w0=d.w0, b0=d.b0, lr=d.lr)
>>> fig = model_over_data(d.X, d.y, h, loss="mse", final=(w, b), true=(d.true_w, d.true_b))
>>> [line.get_label() for line in fig.axes[0].lines]
['final model (ŷ = 3.81988x - 2.30453)', 'true line y = 5x - 3']
"""

from derivreg.plots._common import LOSS_LABELS as LOSS_LABELS
from derivreg.plots._common import STYLE as STYLE
from derivreg.plots.logistic import decision_boundary as decision_boundary
from derivreg.plots.logistic import sigmoid_parameters as sigmoid_parameters
from derivreg.plots.softmax import softmax_regions as softmax_regions
from derivreg.plots.softmax import softmax_training as softmax_training
from derivreg.plots.training import MAX_TRACKS as MAX_TRACKS
from derivreg.plots.training import loss_and_accuracy as loss_and_accuracy
from derivreg.plots.training import loss_and_parameters as loss_and_parameters
from derivreg.plots.training import model_over_data as model_over_data

__all__ = [
    "LOSS_LABELS",
    "MAX_TRACKS",
    "STYLE",
    "decision_boundary",
    "loss_and_accuracy",
    "loss_and_parameters",
    "model_over_data",
    "sigmoid_parameters",
    "softmax_regions",
    "softmax_training",
]
