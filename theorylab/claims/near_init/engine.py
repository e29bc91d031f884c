"""near_init's measurement: data, the Monte-Carlo kernel, and the width ladder trained by GD.

Imported inside :func:`theorylab.claims.near_init.simulate` (it imports torch). Every step
records what it measured and nothing else; the theory (H_inf's closed form, the bounds, the
kernel dynamics) enters only :func:`theorylab.claims.near_init.compare`, except the default
step size eta = 1/lambda_max(H_inf), which the run needs before it can train.
"""

from __future__ import annotations

import torch

from ...data import Dataset, digits, parallel_pairs, unit_sphere
from ...nets.two_layer import NeuronBank
from ...runtime import Context
from ...theory import du2019
from ...train import GDTrace, gradient_descent
from . import Measurement, Params, load_file_once

# Monte-Carlo kernel samples drawn per chunk (bounds the (chunk, n) activation matrix).
MC_CHUNK = 4096


def load_data(p: Params, ctx: Context) -> Dataset:
    n, d = p.shape()
    if p.data == "sphere":
        return unit_sphere(n, d, ctx)
    if p.data == "digits":
        return digits(n, ctx)
    return load_file_once(p.data)


def unit_rows(ds: Dataset, ctx: Context) -> tuple[torch.Tensor, torch.Tensor, tuple, bool]:
    """Inputs rescaled to unit norm (Du et al.'s assumption) in float64 on the run's device,
    the labels, the original norms' range, and whether they were already unit."""
    # Divide by each row's largest |entry| first: rows of norm ~1e300 (whose norm overflows)
    # or of subnormal entries (whose norm underflows) still reach unit norm exactly.
    scale = ds.X.abs().amax(dim=1, keepdim=True).clamp_min(torch.finfo(ds.X.dtype).tiny)
    scaled = ds.X / scale
    scaled_norms = scaled.norm(dim=1)
    X = scaled / scaled_norms.clamp_min(torch.finfo(ds.X.dtype).tiny)[:, None]
    raw_norms = scale[:, 0] * scaled_norms  # inf where the norm exceeds the float range
    near_unit = bool(((raw_norms - 1).abs() < 1e-9).all())
    norm_range = (float(raw_norms.min()), float(raw_norms.max()))
    return X.to(ctx.torch_device), ds.y.to(ctx.torch_device), norm_range, near_unit


def default_step(X: torch.Tensor, p: Params) -> float:
    """eta as given, else 1/lambda_max(H_inf) (the largest step that does not amplify any mode
    of the kernel dynamics by more than its own size)."""
    if p.eta is not None:
        return p.eta
    return 1.0 / float(torch.linalg.eigvalsh(du2019.h_inf(X))[-1])


def kernel_monte_carlo(X: torch.Tensor, samples: int, ctx: Context) -> torch.Tensor:
    """Fraction of w ~ N(0, I) (``samples`` draws) with w.x_i >= 0 and w.x_j >= 0, all i, j."""
    n, d = X.shape
    gen = ctx.generator("kernel_mc")
    counts = torch.zeros(n, n, dtype=torch.float64, device=X.device)
    done = 0
    while done < samples:
        chunk = min(MC_CHUNK, samples - done)
        w = torch.randn(chunk, d, generator=gen, dtype=torch.float64).to(X.device)
        active = (X @ w.T >= 0).to(torch.float64)
        counts += active @ active.T
        done += chunk
    return counts / samples


def build_bank(p: Params, ctx: Context, d: int) -> tuple[NeuronBank, list[int]]:
    """Every (initialisation, width) network of the ladder in one bank, w_r(0) ~ N(0, I) and
    a_r = +-1 from named streams (one per network, so a wider ladder does not shift others)."""
    weights, signs, widths = [], [], []
    for replica in range(p.inits):
        for width in p.ladder:
            weights.append(ctx.randn(width, d, stream=f"init/{replica}/{width}"))
            coin = torch.randint(
                0, 2, (width,), generator=ctx.generator(f"signs/{replica}/{width}")
            )
            signs.append(ctx.to(2.0 * coin - 1.0))
            widths.append(width)
    return NeuronBank.build(weights, signs, p.parameterization), widths


def train(bank: NeuronBank, X: torch.Tensor, y: torch.Tensor, eta: float, p: Params) -> GDTrace:
    """Full-batch GD on every network at once. Mean field scales each unit's step by its
    network's width, so the function-space step at initialisation is the same as for ntk."""
    unit_widths = bank.widths[bank.group].to(X.dtype)
    multiplier = unit_widths if p.parameterization == "mean_field" else torch.ones_like(unit_widths)
    return gradient_descent(bank, X, y, eta * multiplier, p.steps)


def target_patterns(bank: NeuronBank, X: torch.Tensor, widths: list[int], width: int):
    """Activation patterns 1{w_r(0).x_i > 0} (n, units) of the networks of the target width and
    the network index of each of those units."""
    target = torch.tensor([g for g, w in enumerate(widths) if w == width], device=X.device)
    units = torch.isin(bank.group, target)
    patterns = (X @ bank.W[units].T > 0).cpu().numpy()
    return patterns, bank.group[units].cpu().numpy()


def simulate(p: Params, ctx: Context) -> Measurement:
    ds = load_data(p, ctx)
    X64, y64, norm_range, near_unit = unit_rows(ds, ctx)
    pairs = parallel_pairs(X64)
    eta = default_step(X64, p)
    kernel = kernel_monte_carlo(X64, p.kernel_samples, ctx)
    X, y = ctx.to(X64), ctx.to(y64)
    bank, widths = build_bank(p, ctx, ds.d)
    patterns, pattern_network = target_patterns(bank, X, widths, p.width)
    trace = train(bank, X, y, eta, p)

    def numpy(t):
        return t.to(torch.float64).cpu().numpy()

    return Measurement(
        X=numpy(X64),
        y=numpy(y64),
        norm_range=norm_range,
        near_unit=near_unit,
        parallel_pairs=[tuple(pair) for pair in pairs],
        eta=eta,
        kernel_estimate=numpy(kernel),
        kernel_samples=p.kernel_samples,
        widths=list(widths),
        residual=numpy(trace.residual),
        max_distance=numpy(trace.max_distance),
        relative_change=numpy(trace.relative_change),
        flip_fraction=numpy(trace.flip_fraction),
        certificate=numpy(trace.certificate_ratio),
        gram_init=numpy(torch.stack(trace.gram_init)),
        init_patterns=patterns,
        pattern_network=pattern_network,
        resolution=float(torch.finfo(ctx.torch_dtype).eps),
    )
