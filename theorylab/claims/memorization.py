"""memorization: a network with 2n + d weights interpolates any labels on n points, and
over-parameterized networks fit random labels while their test accuracy stays at chance.

Statement 1 (Zhang, Bengio, Hardt, Recht, Vinyals, ICLR 2017, Thm 1): for any n distinct
points x_i in R^d and any labels y_i there is a two-layer ReLU network
c(x) = sum_j w_j relu(a.x - b_j) with 2n + d weights such that c(x_i) = y_i. Checked
constructively (:mod:`theorylab.theory.zhang2017`): a generic direction a, sorted projections
z_i = a.x_i, interleaved biases b_1 < z_1 < b_2 < ... < b_n < z_n; A_ij = relu(z_i - b_j) is
lower triangular with eigenvalues z_i - b_i > 0, and w = A^{-1} y by forward substitution.

Statement 2 (Zhang et al. Sec. 2, Fig. 1a): an over-parameterized MLP (parameters >> n) trained
on labels that are independent of the inputs (shuffled labels, random-pixel inputs, synthetic
Gaussian inputs with uniform labels) reaches 100% training accuracy, while its accuracy on
held-out points with equally uninformative labels stays at chance, inside the exact binomial
interval. With the true labels the same network generalises (accuracy far above chance), and
the steps it needed are recorded next to those for random labels (not compared as a factor).

Setting: construction on X ~ N(0, I_d), y ~ N(0, 1) (any real labels); random-label fits on
scikit-learn's digits (1797 8x8 images, 10 classes, pixels standardised with the training
split's statistics) and on synthetic Gaussian inputs of the same shape. The four tasks (true
labels, shuffled labels, random pixels, synthetic) train as one batch of independent networks
(batched matmuls); each has a one-hidden-layer ReLU MLP of ``width`` units and is trained by
full-batch Adam on the *mean* cross-entropy over its training points.

Negative control: ``--width 2`` (160 parameters for 1000 training points): the model cannot fit
random labels, the fit statements are violated and the verdict is "violated".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..data import digits_images
from ..errors import Inconclusive, UsageError
from ..registry import Claim, param
from ..report import Hypothesis, Report, Statement
from ..runtime import Context
from ..theory import zhang2017

DIGITS_IMAGES, DIGITS_PIXELS, DIGITS_CLASSES = 1797, 64, 10
TASKS = ("digits_true", "digits_shuffled", "digits_random_pixels", "synthetic_random")
RANDOM_TASKS = TASKS[1:]
# Theorem 1's interpolation target: max_i |c(x_i) - y_i| <= FIT_TOLERANCE max_i |y_i|.
FIT_TOLERANCE = 1e-6
# The eigenvalues of a triangular matrix are its diagonal; LAPACK returns them to rounding.
EIGENVALUE_RTOL = 1e-9
MAX_CONSTRUCTION_N = 2000


@dataclass(frozen=True)
class Params:
    n: int = param(
        200, "points of the finite-sample construction (Thm 1); float64 resolves the 1e-6 fit "
        "up to n ~ 1000 (see zhang2017 on conditioning)", minimum=1, maximum=MAX_CONSTRUCTION_N,
    )  # fmt: skip
    d: int = param(10, "input dimension of the construction", minimum=1, maximum=10**5)
    train_size: int = param(
        1000, "training points per random-label task (digits: the rest is the test split)",
        minimum=20, maximum=DIGITS_IMAGES - 100,
    )  # fmt: skip
    width: int = param(
        512, "hidden units of the MLP (2 gives the under-parameterized negative control)",
        minimum=1, maximum=10**5,
    )  # fmt: skip
    steps: int = param(
        500, "most full-batch Adam steps (stops once every task fits)", minimum=1, maximum=10**5
    )
    lr: float = param(0.01, "Adam learning rate", minimum=0.0)
    delta: float = param(
        1e-3, "failure probability of each binomial chance interval", minimum=1e-12, maximum=0.5
    )

    def validate(self) -> None:
        if self.lr <= 0:
            raise UsageError(f"lr must be > 0, got {self.lr}")

    @property
    def test_size(self) -> int:
        return DIGITS_IMAGES - self.train_size

    @property
    def mlp_parameters(self) -> int:
        hidden, out = self.width, DIGITS_CLASSES
        return DIGITS_PIXELS * hidden + hidden + hidden * out + out


def estimate_bytes(p: Params) -> float:
    """Construction: X, A and eigvals' workspace (~6 n^2); fit: activations and gradients of the
    four networks over train and test points, plus Adam's two moments."""
    construction = p.n * p.d + 6 * p.n**2
    activations = len(TASKS) * DIGITS_IMAGES * p.width * 4
    weights = len(TASKS) * p.mlp_parameters * 5
    return 8.0 * (construction + activations + weights)


def run(p: Params, ctx: Context) -> Report:
    report = Report(claim="memorization", params={}, seed=ctx.seed, device=ctx.device,
                    dtype=ctx.dtype)  # fmt: skip
    _finite_sample_expressivity(p, ctx, report)
    _random_label_fit(p, ctx, report)
    return report


# Statement 1: the construction ---------------------------------------------------------------
def construct(X: torch.Tensor, y: torch.Tensor, a: torch.Tensor):
    """Thm 1's network for (X, y) along direction a: returns (b, w, A, order, z).

    ``order`` sorts the projections z = X a; b interleaves them (b_1 = z_1 - gap_1/2, or
    z_1 - 1 for n = 1; b_j the midpoint of z_{j-1} and z_j); A = relu(z_sorted - b) is the
    lower-triangular hidden-layer matrix; w solves A w = y_sorted by forward substitution.

    Example (z = (0, 1), b = (-1/2, 1/2), A = [[1/2, 0], [3/2, 1/2]], so w = (2, 0)):
        >>> X, y = torch.tensor([[0.0], [1.0]]).double(), torch.tensor([1.0, 3.0]).double()
        >>> b, w, A, order, z = construct(X, y, torch.ones(1, dtype=torch.float64))
        >>> b.tolist(), w.tolist()
        ([-0.5, 0.5], [2.0, 0.0])
    """
    z = X @ a
    order = torch.argsort(z)
    zs = z[order]
    b = torch.empty_like(zs)
    b[1:] = (zs[1:] + zs[:-1]) / 2
    b[0] = zs[0] - ((zs[1] - zs[0]) / 2 if zs.numel() > 1 else 1.0)
    A = torch.relu(zs[:, None] - b[None, :])
    w = torch.linalg.solve_triangular(A, y[order][:, None], upper=False)[:, 0]
    return b, w, A, order, z


def network_output(X, a, b, w) -> torch.Tensor:
    """c(x) = sum_j w_j relu(a.x - b_j) for every row of X."""
    return torch.relu((X @ a)[:, None] - b[None, :]) @ w


def _finite_sample_expressivity(p: Params, ctx: Context, report: Report) -> None:
    X = ctx.randn(p.n, p.d, stream="construction/inputs")
    y = ctx.randn(p.n, stream="construction/labels")
    a = ctx.randn(p.d, stream="construction/direction")
    b, w, A, order, z = construct(X, y, a)
    zs = z[order]
    gaps = zs[1:] - zs[:-1]
    min_gap = float(gaps.min()) if p.n > 1 else math.inf
    distinct = min_gap > 0
    report.hypotheses.append(
        Hypothesis(
            "distinct_projections", "the projections z_i = a.x_i are distinct (generic a; Thm 1 "
            "needs distinct points)", distinct, f"smallest gap between sorted z_i: {min_gap:.3g}",
            required=True,
        )
    )  # fmt: skip

    weights = a.numel() + b.numel() + w.numel()  # every parameter of the constructed network
    expected = zhang2017.weight_count(p.n, p.d)
    report.statements.append(
        Statement.within(
            "weight_count", "number of weights of the constructed network = 2n + d (Thm 1)",
            weights, (expected, expected), detail=f"a: {a.numel()}, b: {b.numel()}, "
            f"w: {w.numel()}",
        )
    )  # fmt: skip

    upper = torch.triu(A, diagonal=1).abs().max() if p.n > 1 else A.new_zeros(())
    report.statements.append(
        Statement.at_most(
            "lower_triangular", "max_{j>i} |A_ij| = 0 for A_ij = relu(z_i - b_j), z and b "
            "interleaved (Thm 1's construction)", float(upper), 0.0,
        )
    )  # fmt: skip

    diagonal = (zs - b).to(torch.float64)
    smallest_diagonal = float(diagonal.min())
    eigenvalues = torch.linalg.eigvals(A.to(torch.float64))
    smallest_eigenvalue = float(eigenvalues.real.min())
    largest_imag = float(eigenvalues.imag.abs().max())
    report.statements.append(
        Statement.within(
            "smallest_eigenvalue", "lambda_min(A) (LAPACK eigvals) / min_i (z_i - b_i) = 1 "
            "(triangular: the eigenvalues are the diagonal z_i - b_i > 0), relative tolerance "
            f"{EIGENVALUE_RTOL:g}",
            smallest_eigenvalue / smallest_diagonal if smallest_diagonal > 0 else math.nan,
            (1 - EIGENVALUE_RTOL, 1 + EIGENVALUE_RTOL),
            detail=f"lambda_min = {smallest_eigenvalue:.9g}, min_i (z_i - b_i) = "
            f"{smallest_diagonal:.9g} > 0; largest |imaginary part| {largest_imag:.2g}",
        )
    )  # fmt: skip

    fitted = network_output(X, a, b, w)
    errors = (fitted - y).abs()
    max_error = float(errors.max())
    scale = float(y.abs().max())
    if not math.isfinite(max_error):
        raise Inconclusive("the construction's output is not finite (forward substitution)")
    unit_roundoff = torch.finfo(ctx.torch_dtype).eps / 2
    magnitude = (A.abs() @ w.abs()).to(torch.float64)  # (|A||w|)_i in sorted order
    factor = zhang2017.fit_rounding_factor(p.n, unit_roundoff)
    floor = factor * magnitude
    sorted_errors = errors[order].to(torch.float64)
    tolerance = FIT_TOLERANCE * scale
    report.statements.append(_fit_statement(max_error, tolerance, float(floor.max()), ctx.dtype))
    report.statements.append(
        Statement.at_most(
            "fit_rounding_bound", "max_i |fl(c(x_i)) - y_i| / (2 gamma_n (|A||w|)_i) <= 1 "
            "(forward substitution + evaluation, Higham Thm 8.5)",
            float((sorted_errors / floor.clamp_min(1e-300)).max()), 1.0,
            detail=f"2 gamma_n = {factor:.3g}; max_i (|A||w|)_i / max|y| = "
            f"{float(magnitude.max()) / scale:.3g} (grows ~ n^3: smallest gap ~ 1/n^2)",
        )
    )  # fmt: skip
    report.quantities.update(
        weight_count=weights, n=p.n, d=p.d, max_fit_error=max_error,
        relative_fit_error=max_error / scale, smallest_diagonal=smallest_diagonal,
        smallest_eigenvalue=smallest_eigenvalue,
        amplification=float(magnitude.max()) / scale, rounding_floor=float(floor.max()),
    )  # fmt: skip
    zs_cpu = zs.to(torch.float64).cpu()
    report.series["construction"] = {
        "z": zs_cpu.tolist(),
        "label": y[order].to(torch.float64).cpu().tolist(),
        "fitted": fitted[order].to(torch.float64).cpu().tolist(),
        "bias": b.to(torch.float64).cpu().tolist(),
        "weight": w.to(torch.float64).cpu().tolist(),
    }


def _fit_statement(max_error, tolerance, floor, dtype) -> Statement:
    """max |c(x_i) - y_i| <= 1e-6 max|y|; a miss that rounding can explain is n/a, not a fail."""
    text = f"max_i |c(x_i) - y_i| <= {FIT_TOLERANCE:g} max_i |y_i| (Thm 1: exact interpolation)"
    detail = f"rounding floor 2 gamma_n max(|A||w|) = {floor:.3g}"
    statement = Statement.at_most("max_fit_error", text, max_error, tolerance, detail=detail)
    if statement.holds is False and floor > tolerance:
        statement.mark_not_evaluable(
            f"above the tolerance, so {dtype} cannot resolve it here: lower --n"
        )
    return statement


# Statement 2: random labels ------------------------------------------------------------------
def build_tasks(p: Params, ctx: Context):
    """(X_train, y_train, X_test, y_test), each stacked over TASKS: (T, n, 64) and (T, n)."""
    X, y = digits_images("memorization")
    order = torch.randperm(DIGITS_IMAGES, generator=ctx.generator("digits/split"))
    train, test = order[: p.train_size], order[p.train_size :]
    mean = X[train].mean(dim=0)
    std = X[train].std(dim=0)
    std = torch.where(std > 0, std, torch.ones_like(std))  # constant border pixels
    Xs = (X - mean) / std
    n_tr, n_te = p.train_size, p.test_size

    def permuted(labels, stream):
        return labels[torch.randperm(labels.numel(), generator=ctx.generator(stream))]

    def gaussian(rows, stream):
        return torch.randn(rows, DIGITS_PIXELS, generator=ctx.generator(stream),
                           dtype=torch.float64)  # fmt: skip

    def uniform_labels(rows, stream):
        return torch.randint(0, DIGITS_CLASSES, (rows,), generator=ctx.generator(stream))

    tasks = {
        "digits_true": (Xs[train], y[train], Xs[test], y[test]),
        "digits_shuffled": (
            Xs[train], permuted(y[train], "shuffle/train"),
            Xs[test], permuted(y[test], "shuffle/test"),
        ),
        "digits_random_pixels": (
            gaussian(n_tr, "pixels/train"), y[train], gaussian(n_te, "pixels/test"), y[test]
        ),
        "synthetic_random": (
            gaussian(n_tr, "synthetic/train"), uniform_labels(n_tr, "synthetic/train_labels"),
            gaussian(n_te, "synthetic/test"), uniform_labels(n_te, "synthetic/test_labels"),
        ),
    }  # fmt: skip
    parts = list(zip(*(tasks[name] for name in TASKS), strict=True))
    Xtr, ytr, Xte, yte = (torch.stack(part) for part in parts)
    return ctx.to(Xtr), ytr.to(ctx.torch_device), ctx.to(Xte), yte.to(ctx.torch_device)


def _random_label_fit(p: Params, ctx: Context, report: Report) -> None:
    Xtr, ytr, Xte, yte = build_tasks(p, ctx)
    T, h, k = len(TASKS), p.width, DIGITS_CLASSES
    # He initialisation for the ReLU layer, 1/sqrt(h) for the readout; biases start at zero.
    W1 = ctx.randn(T, DIGITS_PIXELS, h, stream="mlp/W1") * math.sqrt(2.0 / DIGITS_PIXELS)
    W2 = ctx.randn(T, h, k, stream="mlp/W2") / math.sqrt(h)
    b1 = W1.new_zeros(T, 1, h)
    b2 = W1.new_zeros(T, 1, k)
    params = [t.requires_grad_() for t in (W1, b1, W2, b2)]
    optimizer = torch.optim.Adam(params, lr=p.lr)

    def logits(X):
        return torch.relu(torch.baddbmm(b1, X, W1)).bmm(W2) + b2

    accuracy = []
    fit_step = [None] * T
    for step in range(p.steps + 1):
        out = logits(Xtr)
        per_point = torch.nn.functional.cross_entropy(
            out.reshape(-1, k), ytr.reshape(-1), reduction="none"
        ).reshape(T, -1)
        loss = per_point.mean(dim=1).sum()  # mean CE per task; tasks are independent
        if not bool(torch.isfinite(loss)):
            raise Inconclusive(f"training loss is not finite at Adam step {step}", step=step)
        acc = (out.argmax(dim=-1) == ytr).to(torch.float64).mean(dim=1).detach().cpu()
        accuracy.append(acc.tolist())
        for t in range(T):
            if fit_step[t] is None and acc[t] == 1.0:
                fit_step[t] = step
        if all(s is not None for s in fit_step) or step == p.steps:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    with torch.no_grad():
        predictions = logits(Xte).argmax(dim=-1)
    test_acc = (predictions == yte).to(torch.float64).mean(dim=1).cpu()
    train_acc = torch.tensor(accuracy[-1], dtype=torch.float64)
    n_params = p.mlp_parameters
    report.hypotheses.append(
        Hypothesis(
            "over_parameterized", "parameters >> training points (Zhang et al.: the regime in "
            "which networks fit random labels)", n_params >= 10 * p.train_size,
            f"{n_params} parameters for {p.train_size} training points "
            f"(ratio {n_params / p.train_size:.3g}; met at >= 10)",
        )
    )  # fmt: skip
    chance = {}
    for t, name in enumerate(TASKS):
        # Labels independent of the predictions: accuracy ~ Binomial(n_test, p)/n_test with
        # p = sum_c P(predict c) P(label c), both marginals measured on the test split.
        pred_freq = torch.bincount(predictions[t].cpu(), minlength=k).to(torch.float64)
        label_freq = torch.bincount(yte[t].cpu(), minlength=k).to(torch.float64)
        p_chance = float((pred_freq * label_freq).sum()) / p.test_size**2
        chance[name] = (p_chance, zhang2017.chance_interval(p.test_size, p_chance, p.delta))
    for t, name in enumerate(TASKS):
        if name == "digits_true":
            continue
        report.statements.append(
            Statement.at_least(
                f"{name}_train_fit", f"{name}: training accuracy reaches 1 (Zhang et al. Sec. "
                "2: networks fit labels independent of the inputs)", float(train_acc[t]), 1.0,
                detail=f"first fit at step {fit_step[t]}" if fit_step[t] is not None else
                f"not fitted within {p.steps} Adam steps",
            )
        )  # fmt: skip
        p_chance, interval = chance[name]
        report.statements.append(
            Statement.within(
                f"{name}_test_chance", f"{name}: held-out accuracy in the exact binomial "
                f"interval around chance (delta={p.delta:g})", float(test_acc[t]), interval,
                detail=f"chance p = sum_c P(pred c) P(label c) = {p_chance:.4f}, "
                f"{p.test_size} test points",
            )
        )  # fmt: skip
    true_t = TASKS.index("digits_true")
    report.statements.append(
        Statement.at_least(
            "digits_true_generalizes", "true labels: held-out accuracy above the chance "
            "interval (the same network and split do detect signal)", float(test_acc[true_t]),
            chance["digits_true"][1][1], strict=True,
            detail=f"chance p = {chance['digits_true'][0]:.4f}",
        )
    )  # fmt: skip
    for t, name in enumerate(TASKS):
        report.quantities[f"{name}_train_accuracy"] = float(train_acc[t])
        report.quantities[f"{name}_test_accuracy"] = float(test_acc[t])
        report.quantities[f"{name}_steps_to_fit"] = fit_step[t]
    true_steps = fit_step[TASKS.index("digits_true")]
    for t, name in enumerate(TASKS[1:], start=1):  # recorded, not compared (Zhang et al. Fig 1a)
        ratio = fit_step[t] / true_steps if fit_step[t] is not None and true_steps else None
        report.quantities[f"{name}_to_true_steps_ratio"] = ratio
    report.quantities.update(mlp_parameters=n_params, train_size=p.train_size,
                             test_size=p.test_size)  # fmt: skip
    report.series["train_accuracy"] = {
        name: [row[t] for row in accuracy] for t, name in enumerate(TASKS)
    }


def plot(report: Report, path: str) -> None:
    from ..plots.memorization import draw

    draw(report, path)


CLAIM = Claim(
    name="memorization",
    summary="2n + d weights interpolate any labels on n points; over-parameterized nets fit "
    "random labels at chance test accuracy (Zhang et al. 2017)",
    params=Params,
    run=run,
    estimate_bytes=estimate_bytes,
    plot=plot,
)
