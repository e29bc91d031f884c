"""Neyshabur, Li, Bhojanapalli, LeCun & Srebro, "The role of over-parametrization in
generalization of neural networks", ICLR 2019 (arXiv:1805.12076).

Setting: two-layer ReLU networks f(x) = V [U x]_+ with U in R^{h x d}, V in R^{c x h}, U0 the
first layer at initialisation, m training points stacked as the columns of X (d x m here the
rows of an (m, d) array), c classes. Their Theorem 2: for any h >= 2, gamma > 0, delta in (0, 1)
and U0, with probability 1 - delta over the training set, every such f satisfies

    L_0(f) <= L_gamma(f) + O~( sqrt(c) ||V||_F (||U - U0||_F ||X||_F + ||U0 X||_F) / (gamma m)
                               + sqrt(h / m) ),

with L_gamma the fraction of training points whose multi-class margin
f_y(x) - max_{j != y} f_j(x) is at most gamma, and O~ hiding constants and logarithms. The norm
term falls with h for their trained networks (Sec. 5) while parameter counts grow.

What this module computes (constants and logarithms of O~ set to 1, as in their Fig. 5, so
``capacity_bound`` is a capacity *measure* with the theorem's shape, not a certified bound):

- :func:`multiclass_margin`: f_y - max_{j != y} f_j (negative exactly on misclassified points).
  Taking the max over all j, the target class included, gives 0 on every correctly classified
  point: a known implementation mistake this module's tests guard against.
- :func:`margin_at_percentile`: gamma = the q-th percentile of the training margins (Neyshabur
  et al. use a low percentile so a few outliers do not set the scale).
- :func:`norm_terms`: ||V||_F, ||U - U0||_F, ||X||_F, ||U0 X||_F and the product
  ||V||_F (||U - U0||_F ||X||_F + ||U0 X||_F).
- :func:`capacity_bound`: L_gamma + sqrt(c) * product / (gamma m) + sqrt(h/m).

Example (two classes, logits (2, 0) with label 0: margin 2; label 1: margin -2):
    >>> logits = torch.tensor([[2.0, 0.0], [2.0, 0.0]])
    >>> multiclass_margin(logits, torch.tensor([0, 1])).tolist()
    [2.0, -2.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def multiclass_margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """f_y(x) - max_{j != y} f_j(x) for logits (..., c) and labels (...) (c >= 2)."""
    target = logits.gather(-1, y[..., None])[..., 0]
    others = logits.scatter(-1, y[..., None], -math.inf)
    return target - others.amax(-1)


def margin_at_percentile(margins: torch.Tensor, percentile: float) -> torch.Tensor:
    """The ``percentile``-th percentile (0-100, linear interpolation) along the last axis."""
    return torch.quantile(margins, percentile / 100.0, dim=-1)


@dataclass(frozen=True)
class NormTerms:
    V_F: float
    dU_F: float  # ||U - U0||_F
    X_F: float
    U0X_F: float

    @property
    def product(self) -> float:
        """||V||_F (||U - U0||_F ||X||_F + ||U0 X||_F)."""
        return self.V_F * (self.dU_F * self.X_F + self.U0X_F)


def norm_terms(U: torch.Tensor, U0: torch.Tensor, V: torch.Tensor, X: torch.Tensor) -> NormTerms:
    """Norms of one network: U, U0 (h, d), V (c, h), training inputs X (m, d)."""
    return NormTerms(
        V_F=float(V.norm()),
        dU_F=float((U - U0).norm()),
        X_F=float(X.norm()),
        U0X_F=float((X @ U0.T).norm()),
    )


def norm_term(terms: NormTerms, gamma: float, m: int, classes: int) -> float:
    """sqrt(c) ||V||_F (||U - U0||_F ||X||_F + ||U0 X||_F) / (gamma m) (inf when gamma <= 0)."""
    if not gamma > 0:
        return math.inf
    return math.sqrt(classes) * terms.product / (gamma * m)


def additive_term(h: int, m: int) -> float:
    """sqrt(h / m), the width-dependent additive term of Theorem 2."""
    return math.sqrt(h / m)


def capacity_bound(margin_loss: float, terms: NormTerms, gamma: float, m: int, classes: int,
                   h: int) -> float:  # fmt: skip
    """L_gamma + sqrt(c) ||V||_F (||U-U0||_F ||X||_F + ||U0 X||_F)/(gamma m) + sqrt(h/m)."""
    return margin_loss + norm_term(terms, gamma, m, classes) + additive_term(h, m)
