"""The exact worst case of the error-propagation lemma, for targets of depth 1 and 2.

:mod:`.propagation` bounds |f_hat(x) - f(x)| for *every* network whose effective weights are
within e_i of the target's in layer pair i. The pruned network is one such network, usually
far from the worst (its gadget errors are mostly much smaller than the largest one, with
random signs), so comparing it with the bound cannot see a bound that is too small by a
factor of ten. This module computes the largest error any admissible network reaches at an
input x, so the bound can be compared with the quantity it bounds.

Depth 1 (f(x) = w . x): an effective weight w + E with |E_k| <= e changes the output by
E . x, at most e ||x||_1 (E_k = e sign(x_k)): the bound e ||x||_1 is attained at every x.

Depth 2 (f(x) = c . relu(W x), one output): the first pair perturbs each hidden
pre-activation h_j = W_j . x by xi_j = E_j . x with |xi_j| <= e_1 ||x||_1 (any value in that
interval is reached, the rows E_j being independent; the sign-dependent branches A+ / A- of a
gadget only change which E_j is used, not the interval); the second pair perturbs c_j by
tau_j in [-e_2, e_2]. The error is a sum of independent unit terms

    g_j(tau_j, xi_j) = (c_j + tau_j) relu(h_j + xi_j) - c_j relu(h_j),

each linear in tau_j and monotone in xi_j (relu is monotone), so its extremes over the box
lie at the four corners. The worst case is max(sum_j max g_j, -sum_j min g_j): exact.

At an input where every hidden unit is active (:func:`all_active_point`) and e_1 = e_2 = e,
the worst case attains the bound up to sign conflicts. The corner tau_j = e, xi_j = e ||x||_1
keeps unit j active and gives e h_j + c_j e ||x||_1 + e^2 ||x||_1, the bound's term for unit
j when c_j >= 0 and 2 |c_j| e ||x||_1 short of it when c_j < 0; the corner tau_j = -e does the
same for the other sign in the negative direction. So the deficit is at most
2 e ||x||_1 min(sum_{c_j>0} c_j, sum_{c_j<0} |c_j|) <= e ||x||_1 ||c||_1, while the bound is at
least e ||x||_1 (||c||_1 + e d1); at e = 1, with ||c||_1 <= sqrt(d1) ||c||_2 <= sqrt(d1),

    worst case / bound >= 1 - ||c||_1 / (||c||_1 + d1) >= sqrt(d1) / (1 + sqrt(d1)) >= 1/2.

(For small e the corners that keep every unit active lose only 2 e^2 ||x||_1 per unit of
the minority sign, so the ratio is 1 - O(e d1 / ||c||_1).)

Example (depth 1: the worst case is e ||x||_1):
    >>> import torch
    >>> from theorylab.pruning.target import TargetNetwork
    >>> t = TargetNetwork([torch.tensor([[0.6, -0.8]], dtype=torch.float64)])
    >>> x = torch.tensor([[0.6, -0.8]], dtype=torch.float64)
    >>> round(float(worst_case_error(t, [0.1], x)[0]), 12)  # 0.1 * (0.6 + 0.8)
    0.14
"""

from __future__ import annotations

import torch

from .target import TargetNetwork

MAX_DEPTH = 2


def worst_case_error(target: TargetNetwork, layer_errors, x: torch.Tensor) -> torch.Tensor:
    """sup |F(x) - f(x)| over networks F whose layer-pair i weights are within e_i of the
    target's (entrywise), at each row of x; (N,). Depth 1 and 2 with one output only."""
    if target.depth > MAX_DEPTH or target.dims[-1] != 1:
        raise ValueError(f"exact worst case for depth <= {MAX_DEPTH} and one output only")
    x_l1 = x.abs().sum(dim=1)
    if target.depth == 1:
        return float(layer_errors[0]) * x_l1
    W, c = target.weights[0], target.weights[1][0]
    e1, e2 = float(layer_errors[0]), float(layer_errors[1])
    h = x @ W.T  # (N, d1)
    base = c * torch.relu(h)
    corners = []
    for tau in (-e2, e2):
        for xi in (-e1, e1):
            corners.append((c + tau) * torch.relu(h + xi * x_l1[:, None]) - base)
    g = torch.stack(corners, dim=-1)  # (N, d1, 4)
    upper = g.amax(dim=-1).sum(dim=1)
    lower = g.amin(dim=-1).sum(dim=1)
    return torch.maximum(upper, -lower)


def all_active_point(target: TargetNetwork) -> torch.Tensor | None:
    """A unit vector x with W_1 x > 0 in every coordinate (every hidden unit of a depth-2
    target active): x = W_1^+ 1 / ||W_1^+ 1||, or None when W_1 x = 1 has no solution (more
    hidden units than input dimensions, or W_1 without full row rank) or depth != 2."""
    if target.depth != 2:
        return None
    W = target.weights[0]
    ones = torch.ones(W.shape[0], 1, dtype=W.dtype, device=W.device)
    x = torch.linalg.lstsq(W, ones).solution[:, 0] if W.shape[0] <= W.shape[1] else None
    if x is None or not bool((W @ x > 0.5).all()) or float(x.norm()) == 0.0:
        return None
    return x / x.norm()
