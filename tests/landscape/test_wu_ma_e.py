"""The non-uniformity operator against dense per-sample Hessians, chunked and not, and the
verdict's statements against wu2018's bounds."""

import pytest
import torch

from theorylab import curvature as cv
from theorylab.landscape import StabilityVerdict, sigma_operator


@pytest.mark.parametrize("chunk", [30, 7])
def test_sigma_products_equal_dense_sigma(classifier, chunk):
    ml, X, y = classifier["ml"], classifier["X"], classifier["y"]
    theta = ml.theta0

    def f_i(t, x, target):
        return ml.sample_losses(t, x[None], target[None])[0]

    Hs = cv.dense_sample_hessians(f_i, theta, X, y)
    sigma = cv.dense_sigma(Hs)
    op = sigma_operator(ml.rowwise_losses, theta, X, y, chunk=chunk)
    gen = torch.Generator().manual_seed(0)
    V = torch.randn(3, ml.num_params, generator=gen, dtype=torch.float64)
    for v in V:
        torch.testing.assert_close(op(v), sigma @ v, rtol=0, atol=1e-12)


def test_verdict_statements_use_the_closed_forms():
    v = StabilityVerdict(sharpness=15.0, nonuniformity=40.0, lr=0.1, batch_size=10, n=100)
    a, s = v.statements()
    assert a.reference == pytest.approx(20.0) and a.holds
    assert s.reference == pytest.approx((10 * 99 / 90) ** 0.5 / 0.1) and not s.holds
    gd = StabilityVerdict(sharpness=25.0, nonuniformity=1.0, lr=0.1, batch_size=100, n=100)
    assert [st.name for st in gd.statements()] == ["sharpness_condition"]
    assert not gd.statements()[0].holds
