"""lottery_ticket: compare() on hand-made measurements (each statement can hold and fail), the
quick run's shape and figure, the negative control (random-score masks lose to nothing), bad
input, and in slow tests the power audit and the default run over seeds."""

import dataclasses
import math

import numpy as np
import pytest

from theorylab.check import main
from theorylab.claims import lottery_ticket as lt
from theorylab.claims.lottery_ticket import comparison
from theorylab.claims.lottery_ticket.experiment import Measurement, transfer_rounds
from theorylab.errors import UsageError
from theorylab.registry import make_params

STATEMENTS = {
    "ticket_matches_dense", "beats_random_reinit", "beats_random_mask", "learns_faster",
    "weights_move_more", "larger_nets_better_tickets", "late_resetting",
    "linear_mode_connectivity", "ticket_transfer", "ticket_transfer_optimizer",
}  # fmt: skip
P = make_params(lt.CLAIM, {})


def fake(S=6, R=10, gain=0.05, delay=60.0, ratio=2.0, barrier=0.002, rewind=0.0, narrow=0.05,
         transfer=0.05, seed=0):  # fmt: skip
    """A measurement with the paper's orderings: rounds at density 0.7^r (0.7^10 = 2.8%);
    below BEATS_DENSITY the controls lose ``gain``, the re-initialised net stops ``delay``
    steps later in the LEARNS_FASTER band; small seed noise."""
    rng = np.random.default_rng(seed)
    density = 0.7 ** np.arange(R + 1)
    kept = 7000 * density

    def noise(scale=0.002):
        return scale * rng.standard_normal((R + 1, S))

    sparse = (density <= lt.BEATS_DENSITY)[:, None]
    ticket = 0.97 + noise()
    es_ticket = 200 + noise(5)
    lo, hi = lt.LEARNS_FASTER_BAND
    band = ((density >= lo) & (density <= hi))[:, None]
    narrow_kept = kept / 5
    base_at_narrow = np.interp(np.log(narrow_kept[::-1]), np.log(kept[::-1]),
                               ticket.mean(axis=1)[::-1])[::-1]  # fmt: skip
    A, T = 21, 2
    curve = np.zeros((R + 1, A, S)) + 0.03
    curve[:, A // 2, :] += barrier
    return Measurement(
        density=density, layer_density=np.stack([density] * 3, axis=1), kept=kept,
        acc_ticket=ticket, acc_reinit=ticket - gain * sparse + noise(),
        acc_random_mask=ticket - 2 * gain * sparse + noise(), acc_rewind=ticket + rewind + noise(),
        acc_copy_b=ticket + noise(), final_acc_ticket=ticket,
        early_stop_ticket=es_ticket, early_stop_reinit=es_ticket + delay * band + noise(5),
        early_stop_random_mask=es_ticket + noise(5), early_stop_rewind=es_ticket,
        converged_ticket=es_ticket - 100,
        converged_reinit=es_ticket - 100 + delay * band + noise(5),
        barrier=curve.max(axis=1) - curve[:, [0, -1], :].mean(axis=1) + noise(1e-4) ** 2,
        interpolation_error=curve, alphas=np.linspace(0, 1, A),
        movement_kept=np.full((R + 1, S, 3), ratio) * (1 + noise(0.01)[:, :, None]),
        movement_pruned=np.ones((R + 1, S, 3)), narrow_density=density, narrow_kept=narrow_kept,
        acc_narrow=base_at_narrow[:, None] - narrow + noise(),
        transfer_rounds=[R - 1, R][:T],
        acc_transfer_ticket=0.9 + noise()[:T], acc_transfer_random=0.9 - transfer + noise()[:T],
        acc_optimizer_ticket=0.9 + noise()[:T], acc_optimizer_random=0.9 - transfer + noise()[:T],
        acc_transfer_dense=0.92 + noise()[0],
        sizes=(64, 75, 25, 10), narrow_sizes=(64, 19, 6, 10), steps=400,
        dataset_sizes={"train": 1258, "validation": 180, "test": 359},
    )  # fmt: skip


def by_name(comparison_):
    return {s.name: s for s in comparison_.statements}


def test_compare_holds_with_the_papers_orderings():
    c = comparison.compare(fake(), P)
    s = by_name(c)
    assert set(s) == STATEMENTS
    assert all(x.holds for x in c.statements), [(x.name, x.measured) for x in c.statements]
    assert all(x.power == "bound" for x in c.statements)
    assert s["beats_random_mask"].measured > s["beats_random_reinit"].measured > 0.04
    assert c.quantities["late_resetting_observed"] == "matches"
    for key in ("density", "acc_dense", "acc_ticket", "acc_reinit", "acc_random_mask",
                "acc_dense_se", "acc_ticket_se", "acc_reinit_se", "acc_random_mask_se",
                "early_stop_ticket", "early_stop_reinit"):  # fmt: skip
        assert len(c.series[key]) == 11, key


@pytest.mark.parametrize(
    "change, failing",
    [(dict(gain=0.0), {"beats_random_reinit", "beats_random_mask"}),
     (dict(delay=0.0), {"learns_faster"}),
     (dict(ratio=1.0), {"weights_move_more"}),
     (dict(barrier=0.05), {"linear_mode_connectivity"}),
     (dict(rewind=-0.03), {"late_resetting"}),
     (dict(narrow=0.0), {"larger_nets_better_tickets"}),
     (dict(transfer=0.0), {"ticket_transfer", "ticket_transfer_optimizer"})],
)  # fmt: skip
def test_each_statement_fails_without_its_effect(change, failing):
    s = by_name(comparison.compare(fake(**change), P))
    assert {name for name, x in s.items() if x.holds is False} == failing


def test_ticket_below_dense_fails_to_match():
    m = fake()
    r = comparison.match_round(m.density)
    m.acc_ticket[r] -= 0.02
    assert by_name(comparison.compare(m, P))["ticket_matches_dense"].holds is False


def test_late_resetting_reports_the_observed_direction():
    assert comparison.compare(fake(rewind=0.02), P).quantities["late_resetting_observed"] == \
        "beats"  # fmt: skip
    c = comparison.compare(fake(rewind=-0.005), P)
    assert c.quantities["late_resetting_observed"] == "worse"
    assert by_name(c)["late_resetting"].holds is True  # within the 1 pp margin


def test_a_run_that_stops_early_is_not_evaluable():
    m = fake(R=10)
    short = dataclasses.replace(
        m, **{f.name: getattr(m, f.name)[:4] for f in dataclasses.fields(m)
              if isinstance(getattr(m, f.name), np.ndarray)
              and getattr(m, f.name).shape[:1] == (11,)},
    )  # fmt: skip
    short = dataclasses.replace(
        short, transfer_rounds=[3], acc_transfer_ticket=m.acc_transfer_ticket[:1],
        acc_transfer_random=m.acc_transfer_random[:1],
        acc_optimizer_ticket=m.acc_optimizer_ticket[:1],
        acc_optimizer_random=m.acc_optimizer_random[:1],
    )  # fmt: skip
    s = by_name(comparison.compare(short, P))  # densities 1, 0.7, 0.49, 0.34
    for name in ("ticket_matches_dense", "beats_random_reinit", "beats_random_mask",
                 "late_resetting", "ticket_transfer", "ticket_transfer_optimizer"):  # fmt: skip
        assert s[name].holds is None, name


def test_interpolation_at_counts_is_linear_in_log_count():
    kept = np.array([1000.0, 100.0, 10.0])
    acc = np.array([[0.9, 0.8], [0.7, 0.6], [0.5, 0.4]])
    out = comparison.interpolate_at_counts(kept, acc, np.array([math.sqrt(1000 * 100), 10.0]))
    assert np.allclose(out, [[0.8, 0.7], [0.5, 0.4]], rtol=0, atol=1e-12)


def test_transfer_rounds_pick_the_densest_sparsest_and_middle_of_the_band():
    density = [1.0, 0.5, 0.2, 0.09, 0.07, 0.05, 0.04, 0.03]
    assert transfer_rounds(density) == [3, 5, 7]
    assert transfer_rounds([1.0, 0.5, 0.08]) == [2]
    assert transfer_rounds([1.0, 0.5, 0.3]) == [2]


# Runs ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick(theorylab_cache):
    return theorylab_cache.run("lottery_ticket", seed=0, **lt.QUICK)


@pytest.fixture(scope="module")
def control(theorylab_cache):
    return theorylab_cache.run(
        "lottery_ticket", seed=0, **{**lt.QUICK, **lt.CLAIM.negative_control}
    )


def test_quick_run_shape(quick):
    assert set(quick.statement_names) == STATEMENTS
    s = quick.series
    rounds = lt.QUICK["rounds"] + 1
    assert len(s["density"]) == rounds and s["density"][0] == 1.0
    assert all(a > b for a, b in zip(s["density"][:-1], s["density"][1:], strict=True))
    assert len(s["interpolation"]["alpha"]) == 21
    q = quick.quantities
    assert q["sizes"] == [64, 75, 25, 10] and q["narrow_sizes"] == [64, 19, 6, 10]
    for key in ("acc_ticket", "acc_reinit", "acc_random_mask"):
        assert all(0 <= x <= 1 for x in s[key])
    # the large effects hold even at the quick settings
    for name in ("beats_random_mask", "weights_move_more", "linear_mode_connectivity"):
        assert quick.statement(name).holds, quick.statement(name)


def test_negative_control_random_masks_do_not_beat_random_masks(quick, control):
    """A 'ticket' whose mask comes from random scores is a random mask on theta_0: it cannot
    beat random masks or re-initialisation, and the check reports a violation."""
    assert control.verdict == "violated"
    for name in ("beats_random_reinit", "beats_random_mask"):
        assert control.statement(name).holds is False, control.statement(name)
    assert quick.statement("beats_random_mask").holds  # it is the mask that made the difference
    assert control.statement("beats_random_mask").measured < 0.01


def test_figure_is_written(quick, tmp_path):
    from theorylab.plots.lottery_ticket import plot

    path = tmp_path / "lottery_ticket.png"
    plot(quick, str(path))
    assert path.stat().st_size > 20_000


@pytest.mark.parametrize(
    "values, fragment",
    [(dict(prune_rate=1.0), "prune_rate must be in (0, 1)"),
     (dict(prune_rate=0.0), "prune_rate must be in (0, 1)"),
     (dict(output_prune_rate=1.5), "output_prune_rate must be in (0, 1)"),
     (dict(rounds=0), "rounds must be >= 1"), (dict(seeds=0), "seeds must be >= 2"),
     (dict(dataset="mnist"), "dataset must be one of"),
     (dict(rounds=60), "rounds=60 leaves"), (dict(width_factor=0.0), "width_factor must be in"),
     (dict(rewind_step=400), "rewind_step must be < steps"),
     (dict(prune_rate=0.9, pruning="global", rounds=5), "in the narrow network")],
)  # fmt: skip
def test_bad_input_is_a_usage_error(values, fragment):
    with pytest.raises(UsageError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        make_params(lt.CLAIM, values)


def test_too_many_rounds_names_the_layer_and_the_limit(capsys):
    status = main(["lottery_ticket", "--rounds", "60", "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    # the binding layer: 19 x 6 = 114 weights of the quarter-width net, 114 x 0.8^21 = 1.05
    assert "layer 2 of the narrow network" in err and "at most 21 rounds" in err


# Slow: the power audit and the default run over seeds -------------------------------------------
@pytest.mark.slow
def test_power_audit(theorylab_cache):
    audit = theorylab_cache.audit("lottery_ticket")
    print(audit.table())
    assert audit.baseline_verdict == "holds" and audit.exit_status == 0
    flipped = {m.name: set(m.flipped) for m in audit.mutants}
    assert "beats_random_reinit" in flipped["reset_to_fresh_weights"]
    assert {"beats_random_mask", "weights_move_more"} <= flipped["prune_largest"]
    assert "learns_faster" in flipped["converged_at_last_step"]
    assert "linear_mode_connectivity" in flipped["lmc_independent_copies"]
    assert "larger_nets_better_tickets" in flipped["narrow_as_wide"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_default_run_holds(seed, theorylab_cache):
    report = theorylab_cache.run("lottery_ticket", seed=seed)
    for s in report.statements:
        print(f"seed {seed} {s.name}: {s.measured:.4g} {s.relation} {s.reference} ({s.detail})")
    assert report.verdict == "holds"


@pytest.mark.slow
def test_default_negative_control_is_violated(theorylab_cache):
    report = theorylab_cache.run("lottery_ticket", seed=0, mask_criterion="random")
    assert report.statement("beats_random_reinit").holds is False
    assert report.statement("beats_random_mask").holds is False
