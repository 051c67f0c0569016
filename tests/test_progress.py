"""Progress within long epochs: the hook changes nothing but what is reported."""

import numpy as np
import pytest

import derivreg.progress
from derivreg.data import linear, logistic
from derivreg.train import train


@pytest.mark.parametrize(("batch_size", "epochs"), [(1, 2), (3, 2), (None, 3)])
@pytest.mark.parametrize("make", [linear, logistic])
def test_on_update_reports_blocks_and_changes_nothing(monkeypatch, make, batch_size, epochs):
    d = make(2, 50)
    kw = {
        "loss": d.loss,
        "w0": d.w0,
        "b0": d.b0,
        "lr": 0.05,
        "epochs": epochs,
        "batch_size": batch_size,
    }
    plain = train(d.X, d.y, **kw)
    monkeypatch.setattr(derivreg.progress, "UPDATE_BLOCK", 16)
    seen = []
    hooked = train(d.X, d.y, on_update=seen.append, **kw)
    np.testing.assert_array_equal(hooked.w, plain.w)
    assert hooked.b == plain.b
    for field in ("step", "loss", "w", "b", "accuracy", "epoch_loss"):
        a, b = getattr(hooked.history, field), getattr(plain.history, field)
        if a is None:
            assert b is None
        else:
            np.testing.assert_array_equal(a, b)
    per_epoch = -(-50 // (batch_size or 50))
    assert seen == sorted(set(seen))  # increasing
    assert seen[-1] == plain.history.n_updates == epochs * per_epoch
    # every epoch's end is reported, and no gap is longer than a block
    for e in range(1, epochs + 1):
        assert e * per_epoch in seen
    assert max(np.diff([0, *seen])) <= 16
