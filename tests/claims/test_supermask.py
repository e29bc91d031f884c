import math

import numpy as np
import pytest
import torch

from theorylab.claims.supermask import CLAIM, KNOWN_CRITERIA
from theorylab.claims.supermask.compare import (
    EQUIVALENCE_MARGIN,
    LEARNED_MASK_MARGIN,
    chance_upper,
    compare,
)
from theorylab.claims.supermask.simulate import TABLE_ROWS, VARIANTS, Measurement, layer_fractions
from theorylab.errors import UsageError
from theorylab.masks import criteria
from theorylab.registry import make_params
from theorylab.sparse import masked_mlp, pruning

NOISE = np.array([0.0, 0.01, -0.01, 0.005, -0.005, 0.002])
DENS = [0.02, 0.2]
P = make_params(CLAIM, dict(seeds=6, density="0.2,0.02"))


def _m(acc=None, variants=None, table=None) -> Measurement:
    """Hand-made measurement with Zhou et al.'s orderings, overridable per entry: accuracies
    per density (sparsest first) as two numbers, noise added per seed."""
    base_acc = {"large_final": (0.86, 0.97), "magnitude_increase": (0.85, 0.97),
                "small_final": (0.55, 0.96), "random": (0.6, 0.96)}  # fmt: skip
    base_var = {"frozen": (0.9, 0.97), "signs_kept": (0.84, 0.97),
                "random_signs": (0.73, 0.96), "foreign": (0.75, 0.96)}  # fmt: skip
    base_table = {"mask_init": 0.86, "mask_signed_constant": 0.92, "learned_init": 0.94,
                  "learned_signed_constant": 0.96, "trained": 0.98}  # fmt: skip
    base_acc.update(acc or {})
    base_var.update(variants or {})
    base_table.update(table or {})

    def rows(pair):
        return np.stack([pair[0] + NOISE, pair[1] + NOISE[::-1]])

    return Measurement(
        criteria=list(base_acc), density=DENS,
        layer_density=[layer_fractions(d, 3) for d in DENS],
        acc={k: rows(v) for k, v in base_acc.items()},
        variant_acc={k: rows(base_var[k]) for k in VARIANTS}, supermask_density=0.2,
        table={k: base_table[k] + NOISE for k in TABLE_ROWS},
        learned_density={"learned_init": 0.55 + 0 * NOISE,
                         "learned_signed_constant": 0.57 + 0 * NOISE},
        supermask_curve={"mask_init": rows((0.2, 0.86)),
                         "mask_signed_constant": rows((0.25, 0.92))},
        test_size=359, classes=10,
    )  # fmt: skip


def _by(m):
    return {s.name: s for s in compare(m, P).statements}


def test_compare_holds_on_a_measurement_with_the_papers_orderings():
    c = compare(_m(), P)
    assert all(s.holds for s in c.statements), [(s.name, s.measured) for s in c.statements]
    assert c.series["acc_mean"]["random"][0] == pytest.approx(0.6 + NOISE.mean(), abs=1e-12)
    assert (
        c.series["table_lower"]["trained"]
        < 0.98 + NOISE.mean()
        < c.series["table_upper"]["trained"]
    )
    # the frozen variant is reported (here, as in the pilot runs, better than zeros at 2%)
    assert c.quantities["zeros_minus_frozen_at_0.02"] == pytest.approx(-0.04, abs=1e-12)


@pytest.mark.parametrize(
    "change, failing",
    [
        (dict(acc={"random": (0.86, 0.97)}), "random_is_worst"),
        (dict(acc={"small_final": (0.86, 0.97)}), "small_final_fails"),
        (
            dict(acc={"magnitude_increase": (0.86 - EQUIVALENCE_MARGIN - 0.01, 0.97)}),
            "magnitude_increase_on_par",
        ),
        (
            dict(acc={"magnitude_increase": (0.86, 0.97 - EQUIVALENCE_MARGIN - 0.01)}),
            "magnitude_increase_on_par",
        ),
        (dict(variants={"signs_kept": (0.80, 0.97)}), "signs_suffice"),
        (dict(variants={"random_signs": (0.86, 0.96)}), "random_signs_worse"),
        (dict(variants={"foreign": (0.86, 0.96)}), "criterion_uses_its_network"),
        (dict(table={"mask_init": 0.1}), "supermask_above_chance"),
        (dict(table={"mask_signed_constant": 0.86}), "signed_constant_above_init"),
        (
            dict(table={"learned_init": 0.98 - LEARNED_MASK_MARGIN - 0.01}),
            "learned_mask_near_trained",
        ),
    ],  # fmt: skip
)
def test_each_statement_fails_without_its_effect(change, failing):
    by = _by(_m(**change))
    assert by[failing].holds is False, by[failing]
    assert [n for n, s in by.items() if not s.holds] == [failing]


def test_beats_is_asserted_at_the_sparsest_density_and_reported_elsewhere():
    # random on par with large_final at 20% (as in the pilot runs): still holds, and says so
    by = _by(_m(acc={"random": (0.6, 0.97)}))
    assert by["random_is_worst"].holds
    assert "reported, not asserted: d=0.2" in by["random_is_worst"].detail


def test_on_par_favouring_the_alternative_holds():
    by = _by(_m(acc={"magnitude_increase": (0.95, 0.99)}))
    assert by["magnitude_increase_on_par"].holds


def test_chance_limit_is_prune_at_init_s_binomial_quantile():
    from theorylab.claims.prune_at_init.compare import chance_upper as pai

    assert chance_upper(359, 10) == pai(359, 10)


def test_criteria_names_mirror_the_masks_module():
    assert KNOWN_CRITERIA == criteria.CRITERIA


def test_output_layer_density_is_what_iterative_pruning_reaches():
    """Independent route: prune a large layer round by round at 20% (hidden) and 10%
    (output) with the IMP counts; after r rounds the output layer keeps the fraction that
    layer_fractions assigns to the hidden density reached."""
    n = 10**6
    for rounds in (1, 5, 12):
        hidden = pruning.remaining_after(n, pruning.HIDDEN_RATE, rounds)[-1] / n
        output = pruning.remaining_after(n, pruning.OUTPUT_RATE, rounds)[-1] / n
        fractions = layer_fractions(hidden, 3)
        assert fractions[:2] == [hidden, hidden]
        assert fractions[2] == pytest.approx(output, rel=1e-5)


def test_untrained_logits_scale_with_the_signed_constant():
    """Why signed_constant_unit_scale is a declared blind spot: with zero biases, scaling layer
    l by c_l > 0 scales the logits by prod_l c_l, so the predicted class is unchanged (up to
    ties, which rounding may break either way)."""
    gen = torch.Generator().manual_seed(0)
    stack = masked_mlp.init_stack((8, 12, 6, 3), [gen, torch.Generator().manual_seed(1)])
    X = torch.randn(50, 8, generator=gen, dtype=torch.float64)
    sc = [criteria.signed_constant(w) for w in stack.weights]
    out = masked_mlp.forward(masked_mlp.MaskedStack(sc, stack.biases, stack.masks), X)
    unit = [torch.sign(w) for w in stack.weights]
    out1 = masked_mlp.forward(masked_mlp.MaskedStack(unit, stack.biases, stack.masks), X)
    scale = torch.ones(2, dtype=torch.float64)
    for w in stack.weights:
        scale = scale * w.flatten(1).std(dim=1, unbiased=False)
    torch.testing.assert_close(out, out1 * scale[:, None, None], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "values, fragment",
    [
        (
            dict(criteria="large_final,magnitude_increase,small_final,random,biggest"),
            "unknown criterion 'biggest'",
        ),
        (dict(criteria="large_final,magnitude_increase,small_final"), "must include random"),
        (dict(criteria="large_final,large_final,magnitude_increase,small_final,random"), "twice"),
        (dict(density="0.2,1.0"), "density must be distinct fractions in (0, 1)"),
        (dict(density="0.02,0.02"), "--density"),
        (dict(density="0.5,0.3"), "needs a fraction <= 0.2"),
        (dict(supermask_density=1.0), "supermask_density must be in (0, 1)"),
        (dict(seeds=1), "seeds must be >= 2"),
        (dict(control="random_scores"), "control must be one of"),
    ],  # fmt: skip
)
def test_bad_input_is_a_usage_error(values, fragment):
    with pytest.raises(UsageError, match=None) as info:
        make_params(CLAIM, values)
    assert fragment in str(info.value), str(info.value)


@pytest.fixture(scope="module")
def control(theorylab_cache):
    return theorylab_cache.run("supermask", seed=0, **{**CLAIM.quick, **CLAIM.negative_control})


def test_negative_control_shuffled_labels_falls_to_chance(control):
    assert control.verdict == "violated" and control.exit_status == 1
    st = control.statement("supermask_above_chance")
    assert st.holds is False
    mean = control.series["table_mean"]["mask_init"]
    assert mean < control.series["chance_upper"], mean
    assert control.series["table_mean"]["learned_init"] < control.series["chance_upper"]


def test_figure_is_written(control, tmp_path):
    from theorylab.plots.supermask import plot

    path = tmp_path / "supermask.png"
    plot(control, str(path))
    assert path.stat().st_size > 20_000


def test_quick_run_holds_and_a_planted_criterion_mistake_is_caught(theorylab_cache):
    result = theorylab_cache.audit("supermask", mutants=["magnitude_increase_reversed"])
    assert result.baseline_verdict == "holds"
    (mutant,) = result.mutants
    assert mutant.caught and "magnitude_increase_on_par" in mutant.flipped


@pytest.mark.slow
def test_declared_power_table(theorylab_cache):
    result = theorylab_cache.audit("supermask")
    assert result.exit_status == 0, result.table()


@pytest.mark.slow
def test_default_run_holds(theorylab_cache):
    report = theorylab_cache.run("supermask", seed=0)
    assert report.verdict == "holds", report.table()
    assert math.isfinite(report.quantities["table_trained"])
