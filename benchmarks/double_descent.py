"""Benchmark for double_descent (run: ``python benchmarks/double_descent.py``).

Measures, side by side in one run on this machine, the claim as it is now against the
single-module version it replaced (``--baseline``, a git revision; its tree is exported with
``git archive`` to a temporary folder and put first on PYTHONPATH):

1. the default CLI run, ``python -m theorylab.check double_descent --quiet --json``, start-up
   included: wall time, CPU time (user + system, from the child's rusage) and the report's
   ``timing.total_s``; the two versions alternate, ``--repeats`` times each, best of each
   column; ``--threads`` sets OMP_NUM_THREADS / MKL_NUM_THREADS for the children;
2. the CPU time of each sub-experiment, old and new, in one fresh process each (one intra-op
   thread, so the figures are what one core does and do not depend on the others' load);
3. the two linear-algebra routes on one model-wise ladder point and one sample-wise step:
   batched eigendecomposition (the old route, still used for the ridge curves) against one
   Cholesky factor per design (the new route), same numbers to 1e-9.

Results are printed as Markdown. Every figure is measured here; on a shared machine absolute
times are inflated, so compare within a run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The last revision with theorylab/claims/double_descent.py (before the package).
BASELINE = "d1f39a3"

PARTS_NEW = """
import json, sys, time, torch
torch.set_num_threads(1)
from theorylab.claims.double_descent import (interpolation_threshold as it, model_wise,
    random_features, ridge, sample_wise, trained_net, weak_features)
from theorylab.registry import get_claim, make_params
from theorylab.runtime import Context
p, ctx, out = make_params(get_claim("double_descent"), {}), Context(seed=0), {}
def timed(name, fn):
    start = time.process_time(); result = fn(); out[name] = time.process_time() - start
    return result
def model_and_ridge():
    mw, shared = model_wise.simulate(p, ctx, ridge.ridge_points(p))
    return mw, ridge.simulate(p, shared)
mw, rm = timed("model-wise + ridge", model_and_ridge)
timed("weak features", lambda: weak_features.simulate(p, ctx))
timed("sample-wise", lambda: sample_wise.simulate(p, ctx))
rf = timed("random features", lambda: random_features.simulate(p, ctx))
timed("interpolation threshold", lambda: it.simulate(p, ctx))
timed("trained nets", lambda: trained_net.simulate(p, ctx))
timed("compare (all)", lambda: (model_wise.compare(mw, p), ridge.compare(rm, p),
                                random_features.compare(rf, p)))
print(json.dumps(out))
"""

PARTS_OLD = """
import json, sys, time, torch
torch.set_num_threads(1)
import theorylab.claims.double_descent as dd
from theorylab.registry import get_claim, make_params
from theorylab.report import Report
from theorylab.runtime import Context
p, ctx, out = make_params(get_claim("double_descent"), {}), Context(seed=0), {}
rep = Report(claim="double_descent", params={}, seed=0, device="cpu", dtype="float64")
r2, s2 = p.references
def timed(name, fn):
    start = time.process_time(); fn(); out[name] = time.process_time() - start
timed("model-wise + ridge", lambda: dd._model_wise(p, ctx, rep, r2, s2))
timed("weak features", lambda: dd._weak_features(p, ctx, rep, r2, s2))
timed("sample-wise", lambda: dd._sample_wise(p, ctx, rep))
timed("random features", lambda: dd._random_features(p, ctx, rep, r2, s2))
timed("interpolation threshold", lambda: dd._interpolation_threshold(p, ctx, rep))
timed("trained nets", lambda: dd._trained_net(p, ctx, rep))
print(json.dumps(out))
"""


def export_baseline(revision: str, folder: str) -> str:
    archive = subprocess.run(["git", "archive", revision], cwd=REPO, capture_output=True,
                             check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return folder


def child_env(old_tree: str | None, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env["THEORYLAB_PROGRESS"] = "0"
    if old_tree:
        env["PYTHONPATH"] = old_tree + os.pathsep + env.get("PYTHONPATH", "")
    return env


def cli_run(old_tree: str | None, threads: int) -> tuple[float, float, float]:
    """(wall, CPU of the child, report total_s) of one default CLI run."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "theorylab.check", "double_descent", "--quiet", "--json",
             str(path)],
            cwd=tmp, env=child_env(old_tree, threads), check=True,
        )  # fmt: skip
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        report = json.loads(path.read_text())
        assert report["verdict"] == "holds", report["verdict"]
        return wall, cpu, report["timing"]["total_s"]


def parts(old_tree: str | None) -> dict[str, float]:
    code = PARTS_OLD if old_tree else PARTS_NEW
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(old_tree, 1),
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def routes() -> list[str]:
    """Old (eigh) and new (Cholesky) conditional risks, one intra-op thread, same numbers."""
    import torch

    from theorylab.claims.double_descent.designs import conditional_risks, spectra
    from theorylab.runtime import Context

    torch.set_num_threads(1)
    ctx, rows = Context(seed=0), []
    for label, R, n, p, ridges in (
        ("model-wise point n = 200, p = 400, R = 100, ridgeless", 100, 200, 400, (0.0,)),
        ("sample-wise step n = 150, d = 100, R = 1000, ridgeless + lambda*", 1000, 150, 100,
         (0.0, 1.0 / 150)),
    ):  # fmt: skip
        X = ctx.randn(R, n, p, stream=f"bench/{p}")
        beta = ctx.randn(p, stream=f"bench/beta/{p}")

        def old(X=X, beta=beta, ridges=ridges):
            spec = spectra(X, beta)
            return torch.stack([spec.risk(0.25, lam) for lam in ridges], dim=1)

        def new(X=X, beta=beta, ridges=ridges):
            return conditional_risks(X, beta, 0.25, ridges)

        assert torch.allclose(old(), new(), rtol=1e-9)
        t_old, t_new = best_cpu(old), best_cpu(new)
        rows.append(f"| {label} | {t_old:.3f} | {t_new:.3f} | {t_old / t_new:.1f} |")
    return rows


def best_cpu(fn, repeats: int = 3) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the old claim")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="OMP/MKL threads of the runs")
    parser.add_argument("--skip-cli", action="store_true", help="only parts and routes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as old_tree:
        export_baseline(args.baseline, old_tree)
        print(f"baseline {args.baseline}; load average {os.getloadavg()[0]:.1f}; "
              f"threads {args.threads}\n")  # fmt: skip
        if not args.skip_cli:
            runs = {"old": [], "new": []}
            for _ in range(args.repeats):
                runs["old"].append(cli_run(old_tree, args.threads))
                runs["new"].append(cli_run(None, args.threads))
            print("| version | wall (s) | CPU user+sys (s) | report total_s (s) |")
            print("|---|---|---|---|")
            for name, values in runs.items():
                best = [min(v[i] for v in values) for i in range(3)]
                print(f"| {name} | {best[0]:.1f} | {best[1]:.1f} | {best[2]:.1f} |")
            ratio = min(v[1] for v in runs["old"]) / min(v[1] for v in runs["new"])
            print(f"\nCPU old / new: {ratio:.2f}\n")
        old, new = parts(old_tree), parts(None)
        print("| sub-experiment (simulate), 1 thread | old CPU (s) | new CPU (s) |")
        print("|---|---|---|")
        for name in new:
            before = f"{old[name]:.2f}" if name in old else "-"
            print(f"| {name} | {before} | {new[name]:.2f} |")
        print(f"| total | {sum(old.values()):.2f} | {sum(new.values()):.2f} |\n")
    print("| route (CPU s, best of 3, 1 thread) | eigh | Cholesky | eigh / Cholesky |")
    print("|---|---|---|---|")
    print("\n".join(routes()))


if __name__ == "__main__":
    main()
