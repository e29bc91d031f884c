"""``python -m theorylab.landscape pkg.module:factory --data data.npz --lr 0.1 [...]``

Curvature report of the user's own model (see :func:`theorylab.landscape.analyze`), with the
report and exit-status contract of ``python -m theorylab.check``: 0 the Wu-Ma-E conditions
hold at (--lr, --batch-size); 1 one is violated; 2 bad input, one line on stderr (a factory
that does not import, weights that do not match, data that does not fit the model, k larger
than the parameter count, ...); 3 inconclusive (a non-finite loss or curvature); 4 internal
error (one line naming the file the traceback was written to).

The factory is ``module.path:callable`` (imported with the current directory on sys.path) or
``path/to/file.py:callable``; it is called with no arguments and must return an nn.Module.
--weights: a file of ``torch.save(model.state_dict())`` (a dict holding it under
"state_dict" or "model_state_dict" is accepted), loaded with ``weights_only=True``.
--data: ``.npz`` with arrays X (inputs, any shape with samples first) and y (targets).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from ..check import OneLineParser, run_cli
from ..errors import UsageError, exit_process
from ..outputs import check_plot_path, check_writable

PROG = "python -m theorylab.landscape"


def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="Hessian spectrum, trace, density, sharpness and "
        "the Wu-Ma-E stability verdict of your own torch.nn.Module.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "factory", help="pkg.module:callable or path/file.py:callable returning the nn.Module"
    )
    p.add_argument(
        "--weights", help="state_dict file (torch.save); default: the factory's initial weights"
    )
    p.add_argument("--data", required=True, help=".npz file with arrays X and y")
    p.add_argument("--lr", type=float, required=True, help="SGD step size eta of the verdict")
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="SGD batch size B of the verdict (default: n, i.e. GD)",
    )
    p.add_argument(
        "--loss",
        choices=["auto", "mse", "cross_entropy"],
        default="auto",
        help="mean-reduced loss; auto: cross_entropy for integer y, else mse",
    )
    p.add_argument("--top-k", type=int, default=5, help="number of top Hessian eigenvalues")
    p.add_argument(
        "--probes",
        type=int,
        default=100,
        help="Hutchinson probes (when P exceeds --exact-trace-below)",
    )
    p.add_argument(
        "--exact-trace-below",
        type=int,
        default=2048,
        help="exact trace (P products) up to this many parameters",
    )
    p.add_argument("--slq-probes", type=int, default=4, help="SLQ probes")
    p.add_argument("--slq-steps", type=int, default=64, help="Lanczos steps per SLQ probe")
    p.add_argument(
        "--epsilon",
        type=float,
        default=1e-3,
        help="Keskar et al.'s box size (0 skips epsilon-sharpness)",
    )
    p.add_argument(
        "--no-nonuniformity",
        action="store_true",
        help="skip the non-uniformity s (per-sample products)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random probes")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--json", metavar="PATH", help="write the report as JSON ('-' = stdout)")
    p.add_argument("--plot", metavar="PATH", help="write the density figure (PNG, PDF, SVG)")
    p.add_argument("--quiet", action="store_true", help="print no table")
    return p


def load_factory(spec: str):
    """The callable named by ``module:attr`` or ``file.py:attr`` (UsageError otherwise)."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise UsageError(f"factory must be module:callable or file.py:callable, got {spec!r}")
    try:
        if target.endswith(".py"):
            if not os.path.isfile(target):
                raise UsageError(f"factory file not found: {target}")
            module_spec = importlib.util.spec_from_file_location("_theorylab_factory", target)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(target)
    except UsageError:
        raise
    except BaseException as exc:  # ImportError, SyntaxError, SystemExit, anything at import
        raise UsageError(f"factory {spec}: cannot import {target}: {_line(exc)}") from None
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise UsageError(f"factory {spec}: {target} has no callable {attr!r}")
    return factory


def _line(exc: BaseException, limit: int = 300) -> str:
    """The exception as one line: its message's lines joined, cut at ``limit`` characters."""
    text = " ".join(part.strip() for part in str(exc).strip().splitlines() if part.strip())
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def build_model(spec: str, weights: str | None):
    import torch

    factory = load_factory(spec)
    try:
        model = factory()
    except Exception as exc:
        raise UsageError(f"factory {spec} failed: {_line(exc)}") from None
    if not isinstance(model, torch.nn.Module):
        raise UsageError(f"factory {spec} returned {type(model).__name__}, not an nn.Module")
    if weights is not None:
        if not os.path.isfile(weights):
            raise UsageError(f"weights file not found: {weights}")
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise UsageError(f"weights {weights} could not be read: {_line(exc)}") from None
        if isinstance(state, dict):
            for key in ("state_dict", "model_state_dict"):
                if isinstance(state.get(key), dict):
                    state = state[key]
        if not isinstance(state, dict):
            raise UsageError(f"weights {weights} hold a {type(state).__name__}, not a state_dict")
        try:
            model.load_state_dict(state, strict=True)
        except Exception as exc:
            raise UsageError(f"weights {weights} do not match the model: {_line(exc)}") from None
    return model


def load_data(path: str):
    """(X, y) tensors from an .npz with arrays X and y; integer y stays integer."""
    import numpy as np
    import torch

    if not os.path.isfile(path):
        raise UsageError(f"data file not found: {path}")
    if not path.endswith(".npz"):
        raise UsageError(f"data file {path}: expected an .npz file with arrays X and y")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in ("X", "y") if k not in archive.files]
            if missing:
                raise UsageError(
                    f"data file {path} lacks array(s) {', '.join(missing)} "
                    f"(has: {', '.join(archive.files) or 'none'})"
                )
            X, y = np.asarray(archive["X"]), np.asarray(archive["y"])
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(f"data file {path} could not be read: {_line(exc)}") from None
    if X.dtype.kind not in "fiub" or y.dtype.kind not in "fiub":
        raise UsageError(f"data file {path}: X and y must be numeric")
    if X.ndim < 1 or X.shape[0] == 0:
        raise UsageError(f"data file {path}: X holds no samples")
    if y.shape[:1] != X.shape[:1]:
        raise UsageError(f"data file {path}: X has {X.shape[0]} samples, y has shape {y.shape}")
    if not (np.isfinite(X.astype(np.float64)).all() and np.isfinite(y.astype(np.float64)).all()):
        raise UsageError(f"data file {path} contains NaN or infinite values")
    return torch.as_tensor(X), torch.as_tensor(y)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_cli("theorylab.landscape", _main, argv, "landscape")


def _main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.json and args.json != "-":
        check_writable(args.json)
    if args.plot:
        check_plot_path(args.plot)
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("device cuda requested but torch.cuda.is_available() is False here")
    model = build_model(args.factory, args.weights)
    data = load_data(args.data)
    from . import analyze

    params = {"factory": args.factory, "weights": args.weights, "data": args.data}
    report = analyze(
        model,
        data,
        lr=args.lr,
        batch_size=args.batch_size,
        loss=args.loss,
        top_k=args.top_k,
        probes=args.probes,
        exact_trace_below=args.exact_trace_below,
        slq_probes=args.slq_probes,
        slq_steps=args.slq_steps,
        epsilon=args.epsilon,
        nonuniformity=not args.no_nonuniformity,
        seed=args.seed,
        device=args.device,
        dtype=args.dtype,
        report_params=params,
    )
    stream = sys.stderr if args.json == "-" else sys.stdout
    try:
        if not args.quiet:
            print(report.table(), file=stream)
            q = report.quantities
            if "top_eigenvalues" in q:
                tops = ", ".join(f"{v:.6g}" for v in q["top_eigenvalues"])
                print(
                    f"top eigenvalues: {tops}\ntrace: {q['trace']:.6g} +- {q['trace_se']:.3g} "
                    f"({q['trace_method']})",
                    file=stream,
                )
        elif report.failure is not None:
            print(f"theorylab.landscape: inconclusive: {report.failure}", file=sys.stderr)
        if args.json == "-":
            print(report.to_json())
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if args.json and args.json != "-":
        with open(args.json, "w") as f:
            f.write(report.to_json() + "\n")
    if args.plot:
        if report.failure is not None:
            print("theorylab.landscape: no figure written: inconclusive run", file=sys.stderr)
        else:
            from .plot import plot

            plot(report, args.plot)
    return report.exit_status


if __name__ == "__main__":
    exit_process(main())
