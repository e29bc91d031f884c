"""Curvature benchmarks, measured side by side in one run (``python benchmarks/curvature.py``).

1. Top Hessian eigenvalues: theorylab (ARPACK Lanczos, which="LA", on forward-over-reverse
   Hessian-vector products: ``torch.func`` jvp of grad, and the MLP's hand-written R-operator)
   against a PyHessian-style power iteration with deflation on autograd double-backward
   products (written here; PyHessian itself is not a dependency). Same model, same data, same
   float64 arithmetic. Each method is run at a ladder of its own stopping tolerances and the
   loosest one whose every requested eigenvalue is within 1e-6 relative of the dense reference
   (``torch.linalg.eigvalsh`` of the full Hessian) is reported: time and number of products.
   Cases: top-1 on a well-separated spectrum (at initialisation), top-1 at an edge-of-stability
   point (GD trained at step eta until the sharpness sits at 2/eta, where the top eigenvalues
   cluster), and top-5 at the same point.
2. Non-uniformity: one Sigma-vector product, (1/n) sum_i H_i (H_i v - H v), with the per-sample
   products vectorised (one batched forward-over-reverse pass) against a Python loop over the
   n = 256 samples (torch.func per sample), and the MLP's batched R-operator.

One-time costs are excluded from all timings: every method runs once on the problem before it
is timed (first-call dispatch and allocation), and the double-backward graph that power
iteration reuses is built outside the timed region (PyHessian builds it once too), while
Lanczos' products include their full cost. Timings are medians of ``REPEATS`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from theorylab import curvature as cv
from theorylab.nets import mlp
from theorylab.runtime import Context

REL = 1e-6
REPEATS = 3
TOLERANCES = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12]


def problem(n: int, d: int, width: int, depth: int, seed: int = 0):
    ctx = Context(seed=seed)
    spec = mlp.MLPSpec((d,) + (width,) * depth + (1,), "tanh")
    gen = ctx.generator("bench_data")
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(n, generator=gen, dtype=torch.float64)
    return spec, mlp.init_params(spec, ctx, "bench_init"), X, y


def edge_point(spec, theta, X, y, eta: float, steps: int):
    """GD on the mean loss for ``steps`` steps at step eta (reaches the edge of stability)."""
    result = mlp.train(spec, theta[None], X, y, torch.tensor([eta], dtype=torch.float64),
                       [X.shape[0]], steps, torch.Generator(), stop_when_reached=False)  # fmt: skip
    return result.theta[0]


def power_iteration_deflation(hvp, dim: int, k: int, tol: float, max_iter: int = 100000):
    """PyHessian-style: for j = 1..k, power iteration on H restricted to the complement of the
    eigenvectors found so far (Gram-Schmidt against them each step), stopped when the Rayleigh
    quotient changes by less than tol relative. Returns (eigenvalues, products)."""
    gen = torch.Generator().manual_seed(0)
    values, vectors, products = [], [], 0
    for _ in range(k):
        v = torch.randn(dim, generator=gen, dtype=torch.float64)
        previous = None
        for _ in range(max_iter):
            for u in vectors:
                v = v - (u @ v) * u
            v = v / v.norm()
            hv = hvp(v)
            products += 1
            for u in vectors:
                hv = hv - (u @ hv) * u
            value = float(v @ hv)
            if previous is not None and abs(value - previous) <= tol * abs(previous):
                break
            previous, v = value, hv
        values.append(value)
        vectors.append(v / v.norm())
    return values, products


def double_backward_hvp(spec, theta, X, y):
    """v -> H v by autograd double backward on a graph built once (PyHessian's products)."""
    leaf = theta.clone().requires_grad_(True)
    loss = mlp.half_mse(spec, leaf, X, y)
    (gradient,) = torch.autograd.grad(loss, leaf, create_graph=True)
    return lambda v: torch.autograd.grad(gradient, leaf, v, retain_graph=True)[0].detach()


def timed(fn):
    fn()  # warm-up, excluded
    times, out = [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def loosest_accurate(run, reference: list[float]):
    """(tolerance, seconds, products) of the loosest tolerance reaching REL accuracy."""
    for tol in TOLERANCES:
        values, _ = run(tol)
        error = max(abs(v - r) / abs(r) for v, r in zip(values, reference, strict=True))
        if error <= REL:
            seconds, (values, products) = timed(lambda tol=tol: run(tol))
            return tol, seconds, products, error
    return None, float("nan"), -1, float("nan")


def eigen_case(name, spec, theta, X, y, k, rows):
    loss_fn = lambda t: mlp.half_mse(spec, t, X, y)  # noqa: E731
    H = cv.dense_hessian(loss_fn, theta)
    dense = torch.linalg.eigvalsh(H).flip(0)
    reference = dense[:k].tolist()
    gap = float(dense[1] / dense[0])
    P = theta.numel()
    func_hvp = cv.hvp_fn(loss_fn, theta)
    rop_hvp = mlp.mean_hvp_fn(spec, theta, X, y)
    db_hvp = double_backward_hvp(spec, theta, X, y)

    def lanczos(hvp):
        def run(tol):
            r = cv.eigenpairs(hvp, P, k=k, which="LA", tol=tol, like=theta)
            return r.values, r.products

        return run

    methods = {
        "Lanczos LA, torch.func jvp(grad)": lanczos(func_hvp),
        "Lanczos LA, MLP R-operator": lanczos(rop_hvp),
        "power iteration + deflation, double backward": lambda tol: power_iteration_deflation(
            db_hvp, P, k, tol
        ),
    }
    per_product = {}
    unit = torch.ones(P, dtype=torch.float64) / P**0.5
    for label, hvp in (("torch.func jvp(grad)", func_hvp), ("R-operator", rop_hvp),
                       ("double backward", db_hvp)):  # fmt: skip
        per_product[label], _ = timed(lambda hvp=hvp: [hvp(unit) for _ in range(10)])
    results = {}
    for label, run in methods.items():
        results[label] = loosest_accurate(run, reference)
    baseline = results["power iteration + deflation, double backward"][1]
    for label, (tol, seconds, products, error) in results.items():
        rows.append(
            f"| {name} (top-{k}, lambda_2/lambda_1 = {gap:.4f}) | {label} | {tol:g} | "
            f"{products} | {seconds * 1e3:.1f} | {baseline / seconds:.2f}x | {error:.1e} |"
        )
    return per_product


def nonuniformity_case(spec, theta, X, y, rows):
    n, P = X.shape[0], theta.numel()

    def sample(t, x, target):
        return 0.5 * (mlp.forward(spec, t, x[None])[0] - target) ** 2

    _, rows_fn = cv.from_sample_loss(sample, X, y)
    native_rows = lambda T: mlp.sample_losses(spec, T, X, y)  # noqa: E731
    variants = {
        "per-sample loop (torch.func per sample)": cv.sigma_vector_product_loop_fn(
            sample, theta, X, y
        ),
        "vectorised (torch.func vmap rows)": cv.sigma_vector_product_fn(
            cv.per_sample_hvp_fn(rows_fn, theta, n)
        ),
        "vectorised (batched rows, native model)": cv.sigma_vector_product_fn(
            cv.per_sample_hvp_fn(native_rows, theta, n)
        ),
        "vectorised (MLP R-operator)": cv.sigma_vector_product_fn(
            mlp.per_sample_hvp_fn(spec, theta, X, y)
        ),
    }
    v = torch.randn(P, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    outputs, times = {}, {}
    for label, op in variants.items():
        times[label], outputs[label] = timed(lambda op=op: op(v))
    loop = "per-sample loop (torch.func per sample)"
    for label in variants:
        err = float((outputs[label] - outputs[loop]).norm() / outputs[loop].norm())
        rows.append(
            f"| Sigma v, n = {n}, P = {P} | {label} | {times[label] * 1e3:.1f} | "
            f"{times[loop] / times[label]:.1f}x | {err:.1e} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--d", type=int, default=16)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--eta", type=float, default=0.5)
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    spec, theta0, X, y = problem(args.n, args.d, args.width, args.depth)
    print(f"model: tanh MLP {spec.sizes}, P = {spec.num_params}, n = {args.n}, float64, "
          f"1 thread, torch {torch.__version__}")  # fmt: skip
    rows = []
    per_product = eigen_case("init", spec, theta0, X, y, 1, rows)
    edge = edge_point(spec, theta0, X, y, args.eta, args.steps)
    top = cv.hessian_eigenpairs(lambda t: mlp.half_mse(spec, t, X, y), edge, k=2)
    print(f"edge point: GD eta = {args.eta}, {args.steps} steps: top eigenvalues "
          f"{top.values[0]:.4f}, {top.values[1]:.4f} (2/eta = {2 / args.eta:.4f})")  # fmt: skip
    eigen_case("edge of stability", spec, edge, X, y, 1, rows)
    eigen_case("edge of stability", spec, edge, X, y, 5, rows)
    print("\n| case | method | stopping tol | products | time (ms) | speed-up vs power | "
          "max rel. error |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\nper Hessian-vector product (ms): "
          + ", ".join(f"{k} {v / 10 * 1e3:.2f}" for k, v in per_product.items()))  # fmt: skip
    rows = []
    nonuniformity_case(spec, edge, X, y, rows)
    print("\n| case | method | time (ms) | speed-up vs loop | rel. diff vs loop |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
