"""Loss-landscape toolkit for any ``torch.nn.Module``: Hessian spectra, trace, spectral
density, sharpness, and the Wu-Ma-E stability verdict, with checked estimators.

Python::

    from theorylab.landscape import analyze
    report = analyze(model, (X, y), lr=0.1, batch_size=32, top_k=5)
    report.quantities["top_eigenvalues"], report.quantities["trace"], report.verdict

Command line (same report and exit-status contract as ``python -m theorylab.check``)::

    python -m theorylab.landscape pkg.module:factory --weights ckpt.pt --data data.npz \\
        --lr 0.1 --batch-size 32 --json out.json --plot density.png

Pieces, each usable alone: :class:`~theorylab.landscape.module.ModelLoss` (module + loss +
data as functions of one flat parameter vector), :mod:`~theorylab.landscape.hutchinson`
(trace with standard error, or exact), :mod:`~theorylab.landscape.slq` (stochastic Lanczos
quadrature), :mod:`~theorylab.landscape.keskar` (epsilon-sharpness),
:mod:`~theorylab.landscape.wu_ma_e` (stability verdict); the eigen-solvers and products are
:mod:`theorylab.curvature`'s. See docs/landscape.md.
"""

from .analysis import analyze
from .hutchinson import TraceEstimate, exact_trace, hutchinson_trace, trace
from .keskar import EpsilonSharpness, epsilon_sharpness
from .module import ModelLoss
from .slq import SpectralDensity, slq_density
from .wu_ma_e import StabilityVerdict, sigma_operator

__all__ = [
    "EpsilonSharpness",
    "ModelLoss",
    "SpectralDensity",
    "StabilityVerdict",
    "TraceEstimate",
    "analyze",
    "epsilon_sharpness",
    "exact_trace",
    "hutchinson_trace",
    "sigma_operator",
    "slq_density",
    "trace",
]
