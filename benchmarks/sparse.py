"""Batched populations vs one network at a time, and the lottery_ticket default run.

``python benchmarks/sparse.py [--steps 100] [--default-run]`` (results: results_sparse.md).

One IMP round of lottery_ticket trains the ticket, its rewound twin, its re-initialised and
random-mask controls and its second data-order copy for every seed: 5 x 8 = 40 networks on
digits. The benchmark trains those 40 networks for ``--steps`` steps three ways, side by side in
one process so the machine's load affects them alike:

- batched: one population of 40 (theorylab.sparse.training.train, one bmm per layer);
- per seed: 8 populations of 5 (the controls of one seed batched, seeds looped);
- one at a time: 40 populations of 1.

It checks that the three give the same weights (float64, to 1e-10), and reports the ratios.
``--default-run`` also times ``python -m theorylab.check lottery_ticket`` at its defaults.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from timing import best_of  # noqa: E402

from theorylab.runtime import Context  # noqa: E402
from theorylab.sparse import datasets, masked_mlp, pruning, training  # noqa: E402


def population(ctx: Context, seeds: int, variants: int, width: float):
    data = datasets.load("digits", ctx)
    sizes = masked_mlp.layer_sizes(data.d, width)
    stack = masked_mlp.init_stack(
        sizes, [ctx.generator(f"init/{i}") for i in range(seeds * variants)]
    )
    scores = pruning.scores("random", stack.weights, ctx.generator("mask"))
    masks = pruning.prune_layerwise(scores, stack.masks, pruning.layer_rates(3, 0.5, 0.25))
    return data, stack.with_masks(masks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--variants", type=int, default=5)
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--default-run", action="store_true")
    args = parser.parse_args()
    ctx = Context(seed=0)
    S, V = args.seeds, args.variants
    data, stack = population(ctx, S, V, args.width)
    P = S * V
    orders = torch.stack(
        [datasets.data_order(data.n_train, 60, args.steps, ctx.generator(f"o/{s}"))
         for s in range(S)]
    )  # fmt: skip
    seed_of = torch.arange(P) % S
    config = training.TrainConfig(lr=6e-3, steps=args.steps, eval_every=10)
    zeros = torch.zeros(P, dtype=torch.long)

    def run(groups):
        finals = []
        for g in groups:
            idx = torch.as_tensor(g)
            res = training.train(stack.select(idx), data, orders, seed_of[idx], zeros[idx], config)
            finals.append((idx, res.final))
        return finals

    ways = {
        "batched (1 x 40)": [list(range(P))],
        f"per seed ({S} x {V})": [[p for p in range(P) if p % S == s] for s in range(S)],
        f"one at a time ({P} x 1)": [[p] for p in range(P)],
    }
    reference = {int(i): None for i in range(P)}
    for idx, final in run(ways["batched (1 x 40)"]):
        for j, p in enumerate(idx.tolist()):
            reference[p] = [w[j] for w in final.weights]
    times = {}
    for name, groups in ways.items():
        for idx, final in run(groups):
            for j, p in enumerate(idx.tolist()):
                for a, b in zip(final.weights, reference[p], strict=True):
                    assert torch.allclose(a[j], b, rtol=0, atol=1e-10), name
        times[name] = best_of(lambda g=groups: run(g), args.repeats)
    threads = torch.get_num_threads()
    sizes = masked_mlp.layer_sizes(64, args.width)
    print(f"{P} networks {sizes} on digits, {args.steps} steps, minibatch 60, float64, "
          f"{threads} torch threads; same weights all three ways")  # fmt: skip
    print("| way | seconds | per network-step (ms) | vs batched |")
    print("|---|---|---|---|")
    base = times["batched (1 x 40)"]
    for name, t in times.items():
        print(f"| {name} | {t:.3f} | {1e3 * t / (P * args.steps):.3f} | {t / base:.2f}x |")
    if args.default_run:
        start = time.perf_counter()
        cpu0 = os.times()
        out = subprocess.run([sys.executable, "-m", "theorylab.check", "lottery_ticket",
                              "--quiet"], capture_output=True, text=True)  # fmt: skip
        cpu1 = os.times()
        wall = time.perf_counter() - start
        cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system
                                                              - cpu0.children_system)  # fmt: skip
        print(f"default run: exit {out.returncode}, wall {wall:.1f} s, CPU {cpu:.1f} s")


if __name__ == "__main__":
    main()
