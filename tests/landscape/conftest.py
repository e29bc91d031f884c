"""Small models shared by the landscape tests (dense Hessians are cheap at this size)."""

import pytest
import torch

from theorylab import curvature as cv
from theorylab.landscape import ModelLoss


def small_net(seed: int = 0, d: int = 4, h: int = 6, c: int = 3):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.Tanh(), torch.nn.Linear(h, c))


@pytest.fixture(scope="package")
def classifier():
    """A 51-parameter tanh classifier on 30 random points (cross-entropy): generic point, an
    indefinite Hessian, and its dense Hessian as the reference."""
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(30, 4, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (30,), generator=gen)
    ml = ModelLoss(small_net(), (X, y))
    H = cv.dense_hessian(ml.loss, ml.theta0, method="func")
    return dict(ml=ml, X=X, y=y, H=H, eig=torch.linalg.eigvalsh(H))
