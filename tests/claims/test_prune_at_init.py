import numpy as np
import pytest

from theorylab.claims.prune_at_init import CLAIM
from theorylab.claims.prune_at_init.compare import chance_upper, compare
from theorylab.claims.prune_at_init.simulate import METHODS, Measurement
from theorylab.errors import UsageError
from theorylab.registry import make_params


def _measurement(ep_acc, acc_top, seeds=4):
    """Hand-made measurement: ep_acc (widths, k, seeds); acc_top: method -> accuracies at the
    single sparsity 0.98."""
    acc = {m: np.asarray(acc_top[m], dtype=float)[None, :] for m in METHODS}
    collapsed = {m: np.zeros((1, seeds), dtype=bool) for m in METHODS}
    return Measurement(k=[0.02, 0.3, 0.9], widths=[0.25, 1.0], ep_acc=np.asarray(ep_acc),
                       sparsity=[0.98], acc=acc, collapsed=collapsed, test_size=360,
                       classes=10)  # fmt: skip


P = make_params(CLAIM, dict(k="0.02,0.3,0.9", widths="0.25,1.0", sparsity="0.98"))
NOISE = np.array([0.0, 0.01, -0.01, 0.005])
GOOD_EP = [[0.2 + NOISE, 0.8 + NOISE, 0.6 + NOISE], [0.3 + NOISE, 0.95 + NOISE, 0.85 + NOISE]]
GOOD_ACC = {"snip": 0.8 + NOISE, "grasp": 0.8 + NOISE, "magnitude": 0.7 + NOISE,
            "random": 0.3 + NOISE[::-1]}  # fmt: skip


def test_compare_holds_on_a_measurement_with_the_papers_orderings():
    c = compare(_measurement(GOOD_EP, GOOD_ACC), P)
    assert all(s.holds for s in c.statements), [(s.name, s.measured) for s in c.statements]
    assert c.series["ep_acc_mean"][1][1] == pytest.approx(0.95 + NOISE.mean(), abs=1e-12)


def test_monotone_k_curve_has_no_interior_peak():
    monotone = [[0.2 + NOISE, 0.6 + NOISE, 0.8 + NOISE], [0.3 + NOISE, 0.8 + NOISE, 0.9 + NOISE]]
    c = compare(_measurement(monotone, GOOD_ACC), P)
    by = {s.name: s for s in c.statements}
    assert by["edge_popup_interior_peak"].holds is False
    assert by["edge_popup_above_chance"].holds is True


def test_equal_methods_do_not_beat_each_other_and_chance_accuracy_fails():
    chance = [[0.1 + NOISE] * 3, [0.1 + NOISE] * 3]
    same = {m: 0.5 + NOISE for m in METHODS}
    by = {s.name: s for s in compare(_measurement(chance, same), P).statements}
    for name in (
        "edge_popup_above_chance",
        "edge_popup_interior_peak",
        "wider_random_net_better",
        "snip_beats_random",
        "grasp_beats_random",
    ):
        assert by[name].holds is False, name


def test_chance_limit_is_the_binomial_quantile():
    # 99.5% quantile of Binomial(360, 0.1), independently: sum the pmf until 0.995
    from math import comb

    n, p, total = 360, 0.1, 0.0
    for j in range(n + 1):
        total += comb(n, j) * p**j * (1 - p) ** (n - j)
        if total >= 0.995:
            break
    assert chance_upper(n, 10) == j / n


@pytest.mark.parametrize(
    "values",
    [
        dict(k="0.3,0.02,0.9"),
        dict(peak_k=0.02),
        dict(peak_k=0.4),
        dict(sparsity="0.9,1.0"),
        dict(widths="1.0"),
        dict(k="0.1,0.5"),
    ],  # fmt: skip
)
def test_bad_grids_are_refused(values):
    with pytest.raises(UsageError):
        make_params(CLAIM, values)


def test_quick_run_holds_and_a_planted_edge_popup_mistake_is_caught(theorylab_cache):
    result = theorylab_cache.audit("prune_at_init", mutants=["edge_popup_ranks_signed_scores"])
    assert result.baseline_verdict == "holds"
    (mutant,) = result.mutants
    assert mutant.caught and "edge_popup_interior_peak" in mutant.flipped


@pytest.mark.slow
def test_declared_power_table(theorylab_cache):
    result = theorylab_cache.audit("prune_at_init")
    assert result.exit_status == 0, result.table()
