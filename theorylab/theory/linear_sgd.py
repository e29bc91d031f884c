"""Stationary error of online SGD on linear regression, and the eta / B rule (Jastrzebski et
al., "Three Factors Influencing Minima in SGD", 2017: the noise scale of SGD is set by the
ratio of step size to batch size).

Setting: x ~ N(0, I_d), y = w*.x + xi with xi ~ N(0, s2) independent, per-sample loss
1/2 (x.w - y)^2 (Hessian E[x x^T] = I), and every step a fresh batch of B samples:
w_{t+1} = w_t - eta (1/B) sum_b x_b (x_b.w_t - y_b). With e = w - w* and M_t = E[e e^T],
Isserlis' theorem gives E[x x^T M x x^T] = 2 M + tr(M) I, so E[H_B M H_B] =
M + (M + tr(M) I) / B for the batch Hessian H_B = (1/B) sum_b x_b x_b^T, and taking traces
m_{t+1} = m_t (1 - 2 eta + eta^2 (1 + (d + 1) / B)) + eta^2 s2 d / B. Its fixed point is

    E||w - w*||^2 = d eta s2 / (B (2 - eta) - eta (d + 1)),

finite iff B (2 - eta) > eta (d + 1). To first order in eta it is eta s2 d / (2 B): a
function of eta / B alone; the exact form shows the second-order departures.

Example (d = 10, s2 = 1, eta = 0.02, B = 1: 0.2 / 1.76):
    >>> round(stationary_error(10, 0.02, 1, 1.0), 12), first_order_error(10, 0.02, 1, 1.0)
    (0.113636363636, 0.1)
"""

from __future__ import annotations

import sympy as sp

d, eta, B, s2 = sp.symbols("d eta B s2", positive=True)

STATIONARY_ERROR = d * eta * s2 / (B * (2 - eta) - eta * (d + 1))
FIRST_ORDER_ERROR = eta * s2 * d / (2 * B)
CONTRACTION = 1 - 2 * eta + eta**2 * (1 + (d + 1) / B)  # m_{t+1} = CONTRACTION m_t + ...

_stationary = sp.lambdify((d, eta, B, s2), STATIONARY_ERROR, modules="math")
_first = sp.lambdify((d, eta, B, s2), FIRST_ORDER_ERROR, modules="math")
_contraction = sp.lambdify((d, eta, B), CONTRACTION, modules="math")


def stationary_error(d_value: int, eta_value: float, batch: int, noise: float) -> float:
    """E||w - w*||^2 at stationarity (inf where SGD's second moment diverges)."""
    if batch * (2 - eta_value) <= eta_value * (d_value + 1):
        return float("inf")
    return float(_stationary(d_value, eta_value, batch, noise))


def first_order_error(d_value: int, eta_value: float, batch: int, noise: float) -> float:
    """eta s2 d / (2 B): the first-order term, equal along eta / B = const."""
    return float(_first(d_value, eta_value, batch, noise))


def contraction(d_value: int, eta_value: float, batch: int) -> float:
    """Per-step factor of E||e||^2's distance to its fixed point."""
    return float(_contraction(d_value, eta_value, batch))
