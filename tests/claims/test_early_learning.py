"""early_learning: the quick run's statements and power labels, the random-label negative
control, the declared power table, refusals before any work, the label corruption, and
compare() on hand-made curves (fit times, the validation optimum, censoring)."""

import copy

import numpy as np
import pytest
import torch

from theorylab.check import main
from theorylab.claims import early_learning as el
from theorylab.registry import get_claim, make_params

CLAIM = get_claim("early_learning")
POWER = {
    "clean_before_noisy": "bound", "peak_before_memorisation": "bound",
    "early_stopping_gain": "sanity", "zero_noise_control": "bound",
}  # fmt: skip


@pytest.fixture(scope="module")
def quick(theorylab_cache):
    return theorylab_cache.run("early_learning", seed=0, **CLAIM.quick)  # shared


@pytest.fixture(scope="module")
def control(theorylab_cache):
    return theorylab_cache.run("early_learning", seed=0,
                               **{**CLAIM.quick, **CLAIM.negative_control})  # fmt: skip


@pytest.fixture(scope="module")
def measurement(theorylab_cache):
    return theorylab_cache.measurement("early_learning", seed=0, **CLAIM.quick)  # the quick run's


@pytest.mark.parametrize("name", list(POWER))
def test_statement_holds_with_its_power_label(quick, name):
    s = quick.statement(name)
    print(f"{name}: {s.measured:.4g} {s.relation} {s.reference} (slack {s.slack}) {s.detail}")
    assert s.holds, s
    assert s.power == POWER[name]


def test_quick_run_fits_every_label_and_records_the_curves(quick):
    assert quick.verdict == "holds"
    assert [h.met for h in quick.hypotheses] == [True]
    s = quick.series
    seeds = CLAIM.quick["seeds"]
    assert len(s["clean"]) == len(s["noisy"]) == len(s["test"]) == seeds
    assert all(row[-1] == 1.0 for row in s["clean"] + s["noisy"])  # zero training error at the end
    assert quick.quantities["noisy_fraction"] == pytest.approx(0.4, abs=0.05)


def test_negative_control_random_labels_with_a_random_clean_split(control):
    """Every label random, a random 'clean' subset: the two groups are exchangeable, so neither
    is fit first and clean_before_noisy fails (so does everything built on learning)."""
    assert control.verdict == "violated"
    s = control.statement("clean_before_noisy")
    print(s.detail)
    assert s.holds is False and s.measured < 1.5
    assert control.statement("early_stopping_gain").holds is False


def test_declared_power_table(theorylab_cache):
    audit = theorylab_cache.audit("early_learning")
    print(audit.table())
    assert audit.baseline_verdict == "holds"
    assert all(m.as_declared for m in audit.mutants), audit.table()
    result = {m.name: m for m in audit.mutants}
    assert "clean_before_noisy" in result["clean_noisy_swapped"].flipped
    assert result["stop_at_last_step"].flipped == ["early_stopping_gain"]
    assert not result["fit_level_halved"].caught  # the declared blind spot


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--label-noise", "0"], "label_noise must be in (0, 1)"),
        (["--label-noise", "1"], "label_noise must be in (0, 1)"),
        (["--label-noise=-0.1"], "label_noise must be >= 0.0"),
        (["--label-noise", "1.5"], "label_noise must be <= 1.0"),
        (["--train-size", "1500", "--val-size", "300"], "train_size + val_size must be <= 1697"),
        (["--lr", "0"], "lr must be > 0"),
        (["--control", "shuffle"], "invalid choice"),
    ],
)
def test_bad_inputs_exit_2_with_one_line_before_any_work(argv, message, capsys, no_run):
    status = main(["early_learning", *argv])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and err.count("\n") == 1, err
    assert message in err, err


def test_symmetric_noise_flips_to_another_class_only():
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (20000,), generator=gen)
    noisy_labels, mask = el._corrupt(labels, 0.4, gen, "none", 0.4)
    assert torch.equal(noisy_labels != labels, mask)  # noisy = exactly the changed labels
    assert float(mask.double().mean()) == pytest.approx(0.4, abs=0.015)
    moved = (noisy_labels[mask] - labels[mask]) % 10
    counts = torch.bincount(moved, minlength=10).double()
    assert counts[0] == 0 and (counts[1:] / counts[1:].mean() - 1).abs().max() < 0.1
    random, marked = el._corrupt(labels, 0.4, gen, "random_labels", 0.4)
    assert float((random == labels).double().mean()) == pytest.approx(0.1, abs=0.01)
    assert float(marked.double().mean()) == pytest.approx(0.4, abs=0.015)


def test_split_accuracy_against_a_loop():
    gen = torch.Generator().manual_seed(1)
    correct = torch.rand(3, 50, generator=gen) < 0.6
    noisy = torch.rand(3, 50, generator=gen) < 0.3
    clean_acc, noisy_acc = el.split_accuracy(correct, noisy)
    for g in range(3):
        c = [bool(correct[g, i]) for i in range(50) if not noisy[g, i]]
        n = [bool(correct[g, i]) for i in range(50) if noisy[g, i]]
        assert float(clean_acc[g]) == pytest.approx(sum(c) / len(c))
        assert float(noisy_acc[g]) == pytest.approx(sum(n) / len(n))


def test_fit_time_and_validation_optimum():
    steps = np.arange(6, dtype=np.float64)
    assert el.fit_time(np.array([0.1, 0.3, 0.5, 0.4, 0.9, 1.0]), steps, 0.5) == 2.0
    assert el.fit_time(np.array([0.1, 0.2, 0.3, 0.3, 0.3, 0.3]), steps, 0.5) == np.inf
    assert el.validation_optimum(np.array([0.2, 0.7, 0.7, 0.6])) == 1  # first maximum


def test_compare_detects_simultaneous_fitting(measurement):
    """Noisy points fitted as early as the clean ones: the ratio is ~1 and the statement fails."""
    broken = copy.deepcopy(measurement)
    broken.noisy[: broken.seeds] = broken.clean[: broken.seeds]
    statements = {s.name: s for s in el.compare(broken, make_params(CLAIM, CLAIM.quick)).statements}
    assert statements["clean_before_noisy"].holds is False
    assert statements["clean_before_noisy"].measured < 1.01


def test_compare_censors_noisy_points_never_fitted(measurement):
    """A noisy group that never reaches the level counts as fitted one step after the end (a
    lower bound on its time): the ratio stays finite and the statement still holds."""
    broken = copy.deepcopy(measurement)
    broken.noisy[: broken.seeds] = 0.0
    params = make_params(CLAIM, CLAIM.quick)
    s = {x.name: x for x in el.compare(broken, params).statements}["clean_before_noisy"]
    assert s.holds is True and np.isfinite(s.measured)


def test_compare_detects_a_gain_without_noise(measurement):
    broken = copy.deepcopy(measurement)
    S = broken.seeds
    best = [int(np.argmax(row)) for row in broken.val[S:]]
    for g, b in zip(range(S, 2 * S), best, strict=True):
        broken.test[g, -1] = broken.test[g, b] - 0.05  # the end 5 points worse than the optimum
    s = {x.name: x for x in el.compare(broken, make_params(CLAIM, CLAIM.quick)).statements}
    assert s["zero_noise_control"].holds is False


def test_figure_is_written(quick, tmp_path):
    from theorylab.plots import early_learning as figure

    path = tmp_path / "early_learning.png"
    figure.plot(quick, str(path))
    assert path.stat().st_size > 20_000
