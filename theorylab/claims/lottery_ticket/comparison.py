"""Statements of lottery_ticket from a :class:`~.experiment.Measurement` (pure, numpy only).

Every statement compares per-seed paired differences (or ratios) through one-sided Student-t
bounds (:mod:`theorylab.sparse.stats`); its ``measured`` value is that bound and its interval
the declared margin, so the slack reads directly in the statement's units (accuracy, steps,
error): how far the bound clears the margin. Band means are taken per seed first (the mean over
the band's rounds), then compared across seeds.
"""

from __future__ import annotations

import math

import numpy as np

from ...registry import Comparison
from ...report import Statement
from ...sparse.stats import Paired, mean_bounds, mean_se
from . import (
    BEATS_DENSITY,
    LEARNS_FASTER_BAND,
    MATCH_DENSITY,
    MATCH_MARGIN,
    MIN_GAIN,
    MOVEMENT_RATIO,
    NARROW_RATIO,
    STABILITY_THRESHOLD,
    Params,
)

INF = math.inf
LATE_RESETTING_EXPECTED = "matches"


def _lower(name: str, text: str, s: Paired, minimum: float, detail: str) -> Statement:
    return Statement.within(name, text, s.lower, (minimum, INF), detail=detail, power="bound")


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%"


def match_round(density) -> int | None:
    """The sparsest pruned round with density >= MATCH_DENSITY (None if none)."""
    rounds = [r for r in range(1, len(density)) if density[r] >= MATCH_DENSITY]
    return rounds[-1] if rounds else None


def band(density, lo: float, hi: float) -> list[int]:
    """Pruned rounds (r >= 1) with lo <= density <= hi."""
    return [r for r in range(1, len(density)) if lo <= density[r] <= hi]


def interpolate_at_counts(kept, acc, counts) -> np.ndarray:
    """Accuracy of each seed at weight ``counts``, linear in log(count) between rounds
    (``kept`` (R + 1,) decreasing, ``acc`` (R + 1, S)): ``(len(counts), S)``."""
    x = np.log(np.asarray(kept, dtype=float))[::-1]
    acc = np.asarray(acc)[::-1]
    return np.stack([np.interp(np.log(counts), x, acc[:, s]) for s in range(acc.shape[1])],
                    axis=1)  # fmt: skip


def compare(m, p: Params) -> Comparison:
    c = p.confidence
    density = [float(d) for d in m.density]
    dense = m.acc_ticket[0]
    statements: list[Statement] = []
    q: dict = {
        "sizes": list(m.sizes), "narrow_sizes": list(m.narrow_sizes), "steps": m.steps,
        "weights": int(round(m.kept[0])), "dataset_sizes": m.dataset_sizes,
        "acc_dense": float(dense.mean()), "early_stop_dense": float(m.early_stop_ticket[0].mean()),
        "sparsest_density": density[-1],
    }  # fmt: skip

    # ticket_matches_dense -------------------------------------------------------------------
    r_match = match_round(density)
    if r_match is None:  # the first pruned round is already below MATCH_DENSITY
        r_match = 1
    s = mean_bounds(m.acc_ticket[r_match] - dense, c)
    st = _lower(
        "ticket_matches_dense",
        f"ticket accuracy - dense accuracy at the sparsest density >= {_pct(MATCH_DENSITY)}: "
        f"lower {c:.0%} bound >= -{_pct(MATCH_MARGIN)} (Frankle & Carbin 2019: tickets of "
        "10-20% of the weights match the dense net)",
        s, -MATCH_MARGIN,
        f"round {r_match}, density {_pct(density[r_match])}: ticket "
        f"{_pct(m.acc_ticket[r_match].mean())} vs dense {_pct(dense.mean())}; {s.text()}",
    )  # fmt: skip
    if density[-1] > MATCH_DENSITY:
        st.mark_not_evaluable(f"the run stops at density {_pct(density[-1])} > "
                              f"{_pct(MATCH_DENSITY)}")  # fmt: skip
    elif density[r_match] < MATCH_DENSITY:
        st.mark_not_evaluable(f"the first pruned round is already at {_pct(density[1])}")
    statements.append(st)
    matching = [bool(mean_bounds(m.acc_ticket[r] - dense, c).lower >= -MATCH_MARGIN)
                for r in range(len(density))]  # fmt: skip
    still = [density[r] for r in range(len(density)) if all(matching[: r + 1])]
    q.update(match_round=r_match, match_density=density[r_match],
             sparsest_matching_density=min(still) if still else None)  # fmt: skip

    # beats_random_reinit / beats_random_mask / late_resetting --------------------------------
    sparse = band(density, 0.0, BEATS_DENSITY)
    q["beats_band_rounds"] = sparse
    no_band = f"the run does not reach density <= {_pct(BEATS_DENSITY)} (sparsest " \
              f"{_pct(density[-1])}): add rounds"  # fmt: skip
    controls = (
        ("beats_random_reinit", m.acc_reinit, "the same mask on fresh Glorot weights"),
        ("beats_random_mask", m.acc_random_mask, "a random mask of equal per-layer counts"),
    )
    for name, other, label in controls:
        gain = _band_mean(m.acc_ticket, other, sparse)
        s = mean_bounds(gain, c)
        st = _lower(
            name, f"ticket accuracy - {label}, mean over densities <= {_pct(BEATS_DENSITY)}: "
            f"lower {c:.0%} bound >= {_pct(MIN_GAIN)} (Frankle & Carbin 2019, Fig. 3-4)",
            s, MIN_GAIN, f"rounds {sparse} (densities {_dens(density, sparse)}); {s.text()}",
        )  # fmt: skip
        if not sparse:
            st.mark_not_evaluable(no_band)
        statements.append(st)
        q[f"{name}_gain"] = s.mean

    # learns_faster ----------------------------------------------------------------------------
    lo, hi = LEARNS_FASTER_BAND
    middle = band(density, lo, hi)
    s = mean_bounds(_band_mean(m.converged_reinit, m.converged_ticket, middle), c)
    es = mean_bounds(_band_mean(m.early_stop_reinit, m.early_stop_ticket, middle), c)
    censored = float(np.mean([m.early_stop_reinit[r] >= m.steps for r in middle])) if middle \
        else math.nan  # fmt: skip
    st = _lower(
        "learns_faster",
        "convergence step (first with validation loss <= 1.2 x its minimum) of the "
        f"re-initialised net - the ticket's, mean over densities in [{_pct(lo)}, {_pct(hi)}]: "
        f"lower {c:.0%} bound >= one evaluation interval ({p.eval_every} steps) (Frankle & "
        "Carbin 2019, Fig. 4: re-initialised tickets learn slower)",
        s, float(p.eval_every),
        f"rounds {middle}: ticket {_mean_at(m.converged_ticket, middle):.4g} vs reinit "
        f"{_mean_at(m.converged_reinit, middle):.4g} steps; {s.text(' steps')}. Early-stopping "
        f"step (reported): ticket {_mean_at(m.early_stop_ticket, middle):.4g} vs reinit "
        f"{_mean_at(m.early_stop_reinit, middle):.4g} of {m.steps}, difference "
        f"{es.text(' steps')}; re-initialised runs stopping at the last step: {censored:.0%}",
    )  # fmt: skip
    if not middle:
        st.mark_not_evaluable(f"no pruned round has density in [{_pct(lo)}, {_pct(hi)}]")
    statements.append(st)
    q.update(convergence_delay=s.mean, early_stop_delay=es.mean,
             early_stop_delay_lower=es.lower)  # fmt: skip

    # weights_move_more ------------------------------------------------------------------------
    ratios = np.exp(np.log(m.movement_kept[r_match] / m.movement_pruned[r_match]).mean(axis=1))
    s = mean_bounds(ratios, c)
    per_layer = (m.movement_kept[r_match] / m.movement_pruned[r_match]).mean(axis=0)
    st = _lower(
        "weights_move_more",
        "mean |theta_final - theta_0| of the weights the ticket keeps / of the pruned ones "
        f"(dense training; geometric mean over layers): lower {c:.0%} bound >= {MOVEMENT_RATIO}",
        s, MOVEMENT_RATIO,
        f"mask of round {r_match} (density {_pct(density[r_match])}); per-layer ratios "
        f"{[round(float(x), 3) for x in per_layer]}; {s.text()}",
    )  # fmt: skip
    statements.append(st)
    q["movement_ratio"] = s.mean

    # larger_nets_better_tickets ---------------------------------------------------------------
    nd, nk = np.asarray(m.narrow_density), np.asarray(m.narrow_kept)
    comparable = [r for r in range(len(nd)) if m.kept[-1] <= nk[r] <= m.kept[0]]
    if comparable:
        base = interpolate_at_counts(m.kept, m.acc_ticket, nk[comparable])
        gain = (base - m.acc_narrow[comparable]).mean(axis=0)
    else:
        gain = np.full(m.acc_ticket.shape[1], math.nan)
    s = mean_bounds(gain, c)
    st = _lower(
        "larger_nets_better_tickets",
        f"at equal remaining weights, ticket accuracy of the base net - of a net {NARROW_RATIO:g}x "
        f"as wide (mean over its rounds): lower {c:.0%} bound >= {_pct(MIN_GAIN)}",
        s, MIN_GAIN,
        f"narrow rounds {comparable} with {[int(round(x)) for x in nk[comparable]]} weights; "
        f"base sizes {list(m.sizes)}, narrow {list(m.narrow_sizes)}; {s.text()}",
    )  # fmt: skip
    if not comparable:
        st.mark_not_evaluable("no round of the narrow net within the base net's weight counts")
    statements.append(st)
    q["larger_nets_gain"] = s.mean

    # late_resetting ---------------------------------------------------------------------------
    change = _band_mean(m.acc_rewind, m.acc_ticket, sparse)
    s = mean_bounds(change, c)
    observed = ("beats" if s.lower2 > 0 else "worse" if s.upper2 < 0 else "matches") \
        if math.isfinite(s.mean) else "n/a"  # fmt: skip
    st = _lower(
        "late_resetting",
        f"rewinding to theta_k (k = {p.rewind_step}) - resetting to theta_0, mean over "
        f"densities <= {_pct(BEATS_DENSITY)}: lower {c:.0%} bound >= -{_pct(MATCH_MARGIN)} "
        "(matches or beats; Frankle et al. 2020)",
        s, -MATCH_MARGIN,
        f"expected before measuring: {LATE_RESETTING_EXPECTED} (LeNet-300-100 is stable at k = 0"
        f"); observed: {observed} ({c:.0%} two-sided interval); {s.text()}",
    )  # fmt: skip
    if not sparse:
        st.mark_not_evaluable(no_band)
    statements.append(st)
    q.update(late_resetting_expected=LATE_RESETTING_EXPECTED, late_resetting_observed=observed,
             late_resetting_change=s.mean)  # fmt: skip

    # linear_mode_connectivity -----------------------------------------------------------------
    s = mean_bounds(m.barrier[0], c)
    stable = [bool(mean_bounds(m.barrier[r], c).upper <= STABILITY_THRESHOLD)
              for r in range(len(density))]  # fmt: skip
    agree = sum(a == b for a, b in zip(stable[1:], matching[1:], strict=True))
    statements.append(Statement.within(
        "linear_mode_connectivity",
        f"error barrier between two copies of the dense net trained from theta_0 with different "
        f"data orders ({len(m.alphas)} alphas): upper {c:.0%} bound <= "
        f"{_pct(STABILITY_THRESHOLD)} (Frankle et al. 2020: stable)",
        s.upper, (-INF, STABILITY_THRESHOLD), power="bound",
        detail=f"{s.text()}; tickets: barrier {_pct(float(m.barrier[-1].mean()))} at the "
        f"sparsest density; stable at {sum(stable[1:])} of {len(stable) - 1} pruned rounds, "
        f"matching at {sum(matching[1:])}; stability and matching agree at {agree}",
    ))  # fmt: skip
    q.update(dense_barrier=s.mean, stable=stable, matching=matching,
             stable_matching_agree=agree)  # fmt: skip

    # ticket_transfer ---------------------------------------------------------------------------
    T = m.transfer_rounds
    in_band = all(density[r] <= BEATS_DENSITY for r in T)
    for name, ticket, random, what in (
        ("ticket_transfer", m.acc_transfer_ticket, m.acc_transfer_random,
         "re-trained on the shifted data set (Morcos et al. 2019)"),
        ("ticket_transfer_optimizer", m.acc_optimizer_ticket, m.acc_optimizer_random,
         f"found with {p.optimizer}, re-trained with {p.other_optimizer} (Morcos et al. 2019)"),
    ):  # fmt: skip
        extra = (f" (dense net on the shifted data: {_pct(float(np.mean(m.acc_transfer_dense)))})"
                 if name == "ticket_transfer" else "")  # fmt: skip
        s = mean_bounds((ticket - random).mean(axis=0), c)
        st = _lower(
            name, f"ticket - random mask of the same counts, {what}, mean over densities "
            f"{_dens(density, T)}: lower {c:.0%} bound >= {_pct(MIN_GAIN)}",
            s, MIN_GAIN, f"ticket {_pct(ticket.mean())} vs random {_pct(random.mean())}"
            f"{extra}; {s.text()}",
        )  # fmt: skip
        if not in_band:
            st.mark_not_evaluable(no_band)
        statements.append(st)
        q[f"{name}_gain"] = s.mean

    return Comparison(statements=statements, quantities=q, series=_series(m, r_match, density))


def _band_mean(a, b, rounds) -> np.ndarray:
    if not rounds:
        return np.full(np.asarray(a).shape[1], math.nan)
    return (np.asarray(a)[rounds] - np.asarray(b)[rounds]).mean(axis=0)


def _mean_at(a, rounds) -> float:
    return float(np.asarray(a)[rounds].mean()) if rounds else math.nan


def _dens(density, rounds) -> str:
    return "[" + ", ".join(_pct(density[r]) for r in rounds) + "]"


def _series(m, r_match: int, density: list[float]) -> dict:
    out: dict = {"density": density, "kept": [float(x) for x in m.kept]}
    dense_mean, dense_se = mean_se(m.acc_ticket[0])
    out["acc_dense"] = [float(dense_mean)] * len(density)
    out["acc_dense_se"] = [float(dense_se)] * len(density)
    keys = ("acc_ticket", "acc_reinit", "acc_random_mask", "acc_rewind", "acc_narrow",
            "early_stop_ticket", "early_stop_reinit", "early_stop_random_mask",
            "early_stop_rewind", "converged_ticket", "converged_reinit", "barrier")  # fmt: skip
    for key in keys:
        values = np.asarray(getattr(m, key))
        mean, se = mean_se(values, axis=1)
        out[key] = mean.tolist()
        out[f"{key}_se"] = se.tolist()
        if key.startswith("acc_") or key.startswith("early_stop_ticket") or \
                key.startswith("early_stop_reinit"):  # fmt: skip
            out[f"{key}_min"] = values.min(axis=1).tolist()
            out[f"{key}_max"] = values.max(axis=1).tolist()
    out["layer_density"] = np.asarray(m.layer_density).tolist()
    out["narrow_density"] = [float(x) for x in m.narrow_density]
    out["narrow_kept"] = [float(x) for x in m.narrow_kept]
    out["interpolation"] = {
        "alpha": [float(a) for a in m.alphas],
        "error": np.asarray(m.interpolation_error).mean(axis=2).tolist(),  # (R + 1, A)
    }
    kept, pruned = np.asarray(m.movement_kept), np.asarray(m.movement_pruned)
    out["movement"] = {
        "round": r_match, "density": density[r_match],
        "kept": kept[r_match].mean(axis=0).tolist(), "kept_se": mean_se(kept[r_match])[1].tolist(),
        "pruned": pruned[r_match].mean(axis=0).tolist(),
        "pruned_se": mean_se(pruned[r_match])[1].tolist(),
    }  # fmt: skip
    T = m.transfer_rounds
    out["transfer"] = {
        "rounds": list(T), "density": [density[r] for r in T],
        "data_ticket": m.acc_transfer_ticket.mean(axis=1).tolist(),
        "data_random": m.acc_transfer_random.mean(axis=1).tolist(),
        "data_dense": float(np.mean(m.acc_transfer_dense)),
        "optimizer_ticket": m.acc_optimizer_ticket.mean(axis=1).tolist(),
        "optimizer_random": m.acc_optimizer_random.mean(axis=1).tolist(),
    }  # fmt: skip
    return out
