"""The lottery-ticket experiment: IMP rounds with every control batched, then transfer.

Round r = 0..R trains one population of the base network (``(members, ...)`` stacked weights):

    ticket      theta_0 * m_r                  data order A   (IMP, reset to theta_0)
    rewind      theta_k * m'_r                 order A from step k   (IMP with rewinding)
    reinit      fresh Glorot draw * m_r        order A   (Frankle & Carbin's random re-init)
    random      theta_0 * random mask          order A   (same kept count in every layer)
    copy B      theta_0 * m_r                  data order B   (linear mode connectivity)

for all seeds at once (round 0: the dense ticket, which is also the rewind trajectory's first
training, its re-initialisation and its copy B). The next masks m_{r+1} (m'_{r+1}) prune the
ticket's (rewound ticket's) final weights. A half-width network runs its own IMP trajectory
(one more batched population per round). After the last round, tickets of TRANSFER_ROUNDS
sparse rounds and their random masks are re-trained on the shifted data set (beside the dense
net, for reference) and with the other optimiser (three more populations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ...progress import progress
from ...runtime import Context
from ...sparse import datasets, interpolation, masked_mlp, pruning, training
from . import BEATS_DENSITY, DEFAULT_LR, NARROW_RATIO, TRANSFER_ROUNDS, Params


@dataclass
class Measurement:
    """Arrays over rounds r = 0..R and seeds s (shape (R + 1, S) unless noted)."""

    density: np.ndarray  # (R + 1,) kept fraction of all weights (seed mean)
    layer_density: np.ndarray  # (R + 1, L)
    kept: np.ndarray  # (R + 1,) remaining weights (seed mean)
    acc_ticket: np.ndarray  # test accuracy at the early-stopping step
    acc_reinit: np.ndarray
    acc_random_mask: np.ndarray
    acc_rewind: np.ndarray
    acc_copy_b: np.ndarray
    final_acc_ticket: np.ndarray  # test accuracy after the last step
    early_stop_ticket: np.ndarray
    early_stop_reinit: np.ndarray
    early_stop_random_mask: np.ndarray
    early_stop_rewind: np.ndarray
    converged_ticket: np.ndarray  # first step within CONVERGED_TOLERANCE of the minimum
    converged_reinit: np.ndarray
    barrier: np.ndarray  # LMC error barrier of ticket vs copy B
    interpolation_error: np.ndarray  # (R + 1, A, S)
    alphas: np.ndarray  # (A,)
    movement_kept: np.ndarray  # (R + 1, S, L): dense training, weights kept by m_r
    movement_pruned: np.ndarray  # (R + 1, S, L)
    narrow_density: np.ndarray  # (R + 1,)
    narrow_kept: np.ndarray  # (R + 1,)
    acc_narrow: np.ndarray
    transfer_rounds: list[int]
    acc_transfer_ticket: np.ndarray  # (T, S) on the mirrored data set
    acc_transfer_random: np.ndarray
    acc_optimizer_ticket: np.ndarray  # (T, S) re-trained with the other optimiser
    acc_optimizer_random: np.ndarray
    acc_transfer_dense: np.ndarray  # (S,) the dense net trained on the shifted data set
    sizes: tuple[int, ...] = ()
    narrow_sizes: tuple[int, ...] = ()
    steps: int = 0
    dataset_sizes: dict = field(default_factory=dict)


def narrow_sizes(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The smaller network of larger_nets_better_tickets: hidden widths times NARROW_RATIO."""
    return (sizes[0], *[max(1, round(h * NARROW_RATIO)) for h in sizes[1:-1]], sizes[-1])


def lmc_partner(start: masked_mlp.MaskedStack,
                independent: masked_mlp.MaskedStack) -> masked_mlp.MaskedStack:  # fmt: skip
    """Start of the second copy: the same weights as the first (``independent`` is the
    re-initialised control, used only by the power audit's mutant)."""
    return start.clone()


def transfer_rounds(density: list[float]) -> list[int]:
    """Up to TRANSFER_ROUNDS rounds of the BEATS band (densest, sparsest, one between); the
    sparsest round when the run does not reach the band."""
    band = [r for r, d in enumerate(density) if d <= BEATS_DENSITY]
    if not band:
        return [len(density) - 1]
    if len(band) <= TRANSFER_ROUNDS:
        return band
    picks = np.linspace(0, len(band) - 1, TRANSFER_ROUNDS).round().astype(int)
    return [band[i] for i in sorted(set(picks.tolist()))]


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float64).cpu().numpy()


def simulate(p: Params, ctx: Context) -> Measurement:
    S, R, k = p.seeds, p.rounds, p.rewind_step
    steps = p.train_steps
    data = datasets.load(p.dataset, ctx)
    sizes = masked_mlp.layer_sizes(data.d, p.width_factor)
    small = narrow_sizes(sizes)
    dtype, device = ctx.torch_dtype, ctx.torch_device
    L = len(sizes) - 1
    rates = pruning.layer_rates(L, p.prune_rate, p.output_rate)
    if p.pruning == "global":
        rates = [p.prune_rate] * L
    config = training.TrainConfig(optimizer=p.optimizer, lr=p.learning_rate, steps=steps,
                                  batch_size=p.batch_size, eval_every=p.eval_every)  # fmt: skip

    theta0 = masked_mlp.init_stack(sizes, [ctx.generator(f"init/{s}") for s in range(S)],
                                   dtype, device)  # fmt: skip
    theta0_small = masked_mlp.init_stack(
        small, [ctx.generator(f"init_narrow/{s}") for s in range(S)], dtype, device
    )
    length = steps + k
    orders = torch.stack(
        [datasets.data_order(data.n_train, p.batch_size, length, ctx.generator(f"order/{s}"))
         for s in range(S)]
        + [datasets.data_order(data.n_train, p.batch_size, length, ctx.generator(f"order_b/{s}"))
           for s in range(S)]
    )  # fmt: skip
    seeds = torch.arange(S)
    zeros = torch.zeros(S, dtype=torch.long)
    alphas = interpolation.alpha_grid(p.interpolation_points)

    masks = [m.clone() for m in theta0.masks]  # m_r of the ticket trajectory
    masks_rewind = masks
    masks_small = [m.clone() for m in theta0_small.masks]
    rows: dict[str, list] = {name: [] for name in (
        "acc_ticket", "acc_reinit", "acc_random_mask", "acc_rewind", "acc_copy_b",
        "final_acc_ticket", "early_stop_ticket", "early_stop_reinit", "early_stop_random_mask",
        "early_stop_rewind", "converged_ticket", "converged_reinit", "barrier",
        "interpolation_error", "acc_narrow", "density", "layer_density", "kept",
        "narrow_density", "narrow_kept")}  # fmt: skip
    ticket_masks, random_masks = [], []
    theta_k = dense_final = None
    with progress(total=R + 3, desc="lottery_ticket: IMP rounds") as bar:
        for r in range(R + 1):
            ticket = pruning.reset_to(theta0, masks)
            reinit = pruning.random_reinit(
                sizes, masks, [ctx.generator(f"reinit/{s}/{r}") for s in range(S)],
                dtype=dtype, device=device,
            )  # fmt: skip
            copy_b = lmc_partner(ticket, reinit)
            if r == 0:
                rand_masks = [m.clone() for m in masks]  # a random mask of density 1 is dense
                parts = [ticket, reinit, copy_b]
                order_index = torch.cat([seeds, seeds, seeds + S])
                offset = torch.cat([zeros, zeros, zeros])
                cfg = training.TrainConfig(**{**config.__dict__, "snapshot_step": k})
            else:
                gen = ctx.generator(f"random_mask/{r}")
                rand_masks = pruning.random_masks_like(masks, theta0.masks, gen)
                rewind = pruning.reset_to(theta_k, masks_rewind)
                random = theta0.with_masks(rand_masks)
                parts = [ticket, reinit, copy_b, rewind, random]
                order_index = torch.cat([seeds, seeds, seeds + S, seeds, seeds])
                offset = torch.cat([zeros, zeros, zeros, zeros + k, zeros])
                cfg = config
            result = training.train(masked_mlp.cat(parts), data, orders, order_index, offset, cfg)
            acc = result.test_acc_early.reshape(len(parts), S)
            es = result.early_stop_step.reshape(len(parts), S).to(torch.float64)
            conv = result.converged_step.reshape(len(parts), S).to(torch.float64)
            final = result.final
            ticket_final = final.select(slice(0, S))
            copy_final = final.select(slice(2 * S, 3 * S))
            errors = interpolation.error_curve(ticket_final, copy_final, data.X_test,
                                               data.y_test, alphas)  # fmt: skip
            rows["interpolation_error"].append(_np(errors))
            rows["barrier"].append(_np(interpolation.barrier(errors)))
            rows["acc_ticket"].append(_np(acc[0]))
            rows["acc_reinit"].append(_np(acc[1]))
            rows["acc_copy_b"].append(_np(acc[2]))
            rows["final_acc_ticket"].append(_np(result.test_acc_final.reshape(len(parts), S)[0]))
            rows["early_stop_ticket"].append(_np(es[0]))
            rows["early_stop_reinit"].append(_np(es[1]))
            rows["converged_ticket"].append(_np(conv[0]))
            rows["converged_reinit"].append(_np(conv[1]))
            if r == 0:
                theta_k = result.snapshot.select(slice(0, S))
                dense_final = ticket_final
                for name, src in (("acc_rewind", acc[0]), ("acc_random_mask", acc[0]),
                                  ("early_stop_rewind", es[0]),
                                  ("early_stop_random_mask", es[0])):  # fmt: skip
                    rows[name].append(_np(src))
                rewind_final = ticket_final
            else:
                rows["acc_rewind"].append(_np(acc[3]))
                rows["acc_random_mask"].append(_np(acc[4]))
                rows["early_stop_rewind"].append(_np(es[3]))
                rows["early_stop_random_mask"].append(_np(es[4]))
                rewind_final = final.select(slice(3 * S, 4 * S))
            layer_d, overall = pruning.densities(masks, theta0.masks)
            rows["density"].append(float(overall.mean()))
            rows["layer_density"].append(_np(layer_d.mean(dim=0)))
            rows["kept"].append(float(torch.stack([m.sum() for m in masks]).sum()) / S)
            ticket_masks.append(masks)
            random_masks.append(rand_masks)

            # The half-width network's own IMP trajectory.
            small_result = training.train(pruning.reset_to(theta0_small, masks_small), data,
                                          orders, seeds, zeros, config)  # fmt: skip
            rows["acc_narrow"].append(_np(small_result.test_acc_early))
            _ld, small_overall = pruning.densities(masks_small, theta0_small.masks)
            rows["narrow_density"].append(float(small_overall.mean()))
            rows["narrow_kept"].append(float(torch.stack([m.sum() for m in masks_small]).sum())
                                       / S)  # fmt: skip

            gen = ctx.generator(f"criterion/{r}")
            masks_small = pruning.prune(small_result.final, p.mask_criterion, p.pruning, rates,
                                        gen)  # fmt: skip
            masks = pruning.prune(ticket_final, p.mask_criterion, p.pruning, rates, gen)
            if r > 0:
                masks_rewind = pruning.prune(rewind_final, p.mask_criterion, p.pruning, rates, gen)
            else:
                masks_rewind = masks
            bar.update()

        kept_move, pruned_move = [], []
        for m in ticket_masks:
            a, b = pruning.movement(theta0, dense_final, m)
            kept_move.append(_np(a))
            pruned_move.append(_np(b))

        chosen = transfer_rounds(rows["density"])
        other = p.other_optimizer
        transfer_parts = [theta0.with_masks(ticket_masks[r]) for r in chosen]
        transfer_parts += [theta0.with_masks(random_masks[r]) for r in chosen]
        population = masked_mlp.cat(transfer_parts)
        T = len(chosen)
        idx = seeds.repeat(2 * T)
        off = torch.zeros(2 * T * S, dtype=torch.long)
        target = datasets.load(p.dataset, ctx, shift=ctx.generator("transfer_data"))
        dense_target = training.train(theta0, target, orders, seeds, zeros, config)
        moved = training.train(population, target, orders, idx, off, config)
        bar.update()
        other_cfg = training.TrainConfig(**{**config.__dict__, "optimizer": other,
                                            "lr": DEFAULT_LR[other]})  # fmt: skip
        switched = training.train(population, data, orders, idx, off, other_cfg)
        bar.update()

    moved_acc = _np(moved.test_acc_early.reshape(2, T, S))
    switched_acc = _np(switched.test_acc_early.reshape(2, T, S))
    arrays = {name: np.asarray(v) for name, v in rows.items()}
    return Measurement(
        **arrays,
        alphas=_np(alphas),
        movement_kept=np.stack(kept_move),
        movement_pruned=np.stack(pruned_move),
        transfer_rounds=chosen,
        acc_transfer_ticket=moved_acc[0],
        acc_transfer_random=moved_acc[1],
        acc_optimizer_ticket=switched_acc[0],
        acc_optimizer_random=switched_acc[1],
        acc_transfer_dense=_np(dense_target.test_acc_early),
        sizes=tuple(sizes),
        narrow_sizes=tuple(small),
        steps=steps,
        dataset_sizes={
            "train": data.n_train,
            "validation": data.X_val.shape[0],
            "test": data.X_test.shape[0],
        },  # fmt: skip
    )
