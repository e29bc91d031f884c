"""ModelLoss: the loss of any nn.Module as a function of one flat vector, against torch's own
losses, batches against whole tensors, and one-line errors for data that does not fit."""

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from theorylab import curvature as cv
from theorylab.errors import Inconclusive, UsageError
from theorylab.landscape import ModelLoss

from .conftest import small_net


def test_losses_equal_torch_functional_losses(classifier):
    ml, X, y = classifier["ml"], classifier["X"], classifier["y"]
    assert ml.loss_name == "cross_entropy" and ml.num_params == 51 and ml.n == 30
    with torch.no_grad():
        out = ml.module(X)
    assert float(ml.loss(ml.theta0)) == pytest.approx(float(F.cross_entropy(out, y)), rel=1e-14)
    targets = torch.randn(30, 3, dtype=torch.float64)
    mse = ModelLoss(small_net(), (X, targets))
    assert mse.loss_name == "mse"  # auto: real targets
    with torch.no_grad():
        want = F.mse_loss(mse.module(X), targets)
    assert float(mse.loss(mse.theta0)) == pytest.approx(float(want), rel=1e-14)


def test_dataloader_batches_give_the_same_loss_and_hessian(classifier):
    X, y = classifier["X"], classifier["y"]
    loader = DataLoader(TensorDataset(X, y), batch_size=7, shuffle=False)  # last batch of 2
    batched = ModelLoss(small_net(), loader)
    assert batched.n == 30
    assert float(batched.loss(batched.theta0)) == pytest.approx(
        float(classifier["ml"].loss(classifier["ml"].theta0)), rel=1e-14
    )
    H = cv.dense_hessian(batched.loss, batched.theta0)
    torch.testing.assert_close(H, classifier["H"], rtol=0, atol=1e-13)


def test_buffers_and_eval_mode_are_used():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1))
    net[1].running_mean.fill_(0.5)
    X, y = torch.randn(10, 3), torch.randn(10)
    ml = ModelLoss(net, (X, y))
    with torch.no_grad():
        want = F.mse_loss(net.eval()(X.double()), y.double()[:, None])
    assert float(ml.loss(ml.theta0)) == pytest.approx(float(want), rel=1e-13)
    assert ml.theta0.dtype == torch.float64


@pytest.mark.parametrize(
    "X, y, match",
    [
        (torch.randn(5, 7), torch.randint(0, 3, (5,)), "does not fit the model"),
        (torch.randn(5, 4), torch.randint(0, 9, (5,)), "labels in 0..2"),
        (torch.randn(5, 4), torch.randn(5, 2), "shaped like the outputs"),
        (torch.randn(5, 4), torch.randint(0, 3, (6,)), "5 samples but y has 6"),
        (torch.full((5, 4), float("nan")), torch.randint(0, 3, (5,)), "NaN"),
    ],
)
def test_data_that_does_not_fit_is_one_line_usage_error(X, y, match):
    with pytest.raises(UsageError, match=match) as info:
        ModelLoss(small_net(), (X, y))
    assert "\n" not in str(info.value)


def test_non_finite_loss_is_inconclusive():
    net = small_net()
    with torch.no_grad():
        net[0].weight.fill_(float("inf"))
    ml = ModelLoss(net, (torch.randn(5, 4), torch.randint(0, 3, (5,))))
    with pytest.raises(Inconclusive, match="not finite"):
        ml.value()
