"""Functional two-layer ReLU networks, one or many at once.

The model of Du et al. (2019):

    f(x) = s(m) sum_{r=1}^m a_r relu(w_r . x),   a_r in {-1, +1} fixed,  w_r(0) ~ N(0, I_d),

with the output scale ``s(m)`` set by the parameterization: ``"ntk"`` s = m^{-1/2} (lazy /
kernel regime), ``"mean_field"`` s = m^{-1} (features move O(1)).

:class:`NeuronBank` concatenates the hidden units of G independent networks (a width ladder
times several initialisations) into one (M, d) weight matrix with a group index per unit, so a
whole ladder trains with two large matmuls per step instead of a Python loop over small nets.
``forward`` and ``gradient`` are hand-derived for speed; the tests check them against
torch.func on a single network (:func:`two_layer`), the same model definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PARAMETERIZATIONS = ("ntk", "mean_field")


def output_scale(width: int, parameterization: str) -> float:
    """s(m): m^{-1/2} for "ntk", m^{-1} for "mean_field"."""
    if parameterization == "ntk":
        return width**-0.5
    if parameterization == "mean_field":
        return 1.0 / width
    raise ValueError(f"unknown parameterization {parameterization!r}")


def two_layer(W: torch.Tensor, a: torch.Tensor, X: torch.Tensor, scale: float) -> torch.Tensor:
    """f(X) = scale * relu(X W^T) a for one network (W: (m, d), a: (m,), X: (n, d))."""
    return scale * torch.relu(X @ W.T) @ a


@dataclass
class NeuronBank:
    """Hidden units of G two-layer networks, concatenated.

    W: (M, d) first-layer weights; ``group``: (M,) network index of each unit; ``widths``: (G,)
    width of each network; ``signed_scale``: (M,) a_r * s(m_group(r)).
    """

    W: torch.Tensor
    signs: torch.Tensor
    group: torch.Tensor
    widths: torch.Tensor
    signed_scale: torch.Tensor
    # (M, G) block matrix with signed_scale in column group(r): readout and its transpose
    # broadcast residuals back to units, as two thin matmuls instead of gathers/scatters.
    readout: torch.Tensor

    @classmethod
    def build(cls, weights: list[torch.Tensor], signs: list[torch.Tensor], parameterization: str):
        W = torch.cat(weights)
        a = torch.cat(signs)
        widths = torch.tensor([w.shape[0] for w in weights], device=W.device)
        group = torch.repeat_interleave(torch.arange(len(weights), device=W.device), widths)
        scales = torch.tensor(
            [output_scale(w.shape[0], parameterization) for w in weights],
            dtype=W.dtype,
            device=W.device,
        )
        signed_scale = a * scales[group]
        readout = W.new_zeros(W.shape[0], len(weights))
        readout[torch.arange(W.shape[0], device=W.device), group] = signed_scale
        return cls(W, a, group, widths, signed_scale, readout)

    @property
    def n_networks(self) -> int:
        return int(self.widths.numel())

    def group_sum(self, values: torch.Tensor) -> torch.Tensor:
        """Sum over the units of each network along the last axis: (..., M) -> (..., G)."""
        out = values.new_zeros(values.shape[:-1] + (self.n_networks,))
        return out.index_add_(-1, self.group, values)

    def group_max(self, values: torch.Tensor) -> torch.Tensor:
        """Max over the units of each network: (M,) -> (G,)."""
        out = values.new_full((self.n_networks,), -torch.inf)
        return out.scatter_reduce(0, self.group, values, reduce="amax")

    def forward(self, X: torch.Tensor, W: torch.Tensor | None = None):
        """Pre-activations P = X W^T (n, M), activation pattern 1{P > 0} as floats (n, M), and
        outputs u (n, G) of every network."""
        W = self.W if W is None else W
        preact = X @ W.T
        hidden = torch.relu(preact)
        return preact, torch.sign(hidden), hidden @ self.readout

    def gradient(self, X: torch.Tensor, active: torch.Tensor, residual: torch.Tensor):
        """Gradient of sum_g 1/2 ||u_g - y||^2 with respect to W, given residual u - y (n, G)
        and the activation pattern ``active`` = 1{w_r . x_i > 0} (n, M, floats).

        dL/dw_r = a_r s_g sum_i (u_gi - y_i) 1{w_r . x_i > 0} x_i  (relu'(0) = 0, as torch).
        """
        coef = residual @ self.readout.T  # (n, M): a_r s_g (u_gi - y_i)
        return coef.mul_(active).T @ X
