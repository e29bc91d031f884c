"""Registry: claim lookup, typed parameter validation, run hashes, the API entry point."""

import dataclasses

import pytest

import theorylab
from theorylab.errors import UsageError
from theorylab.registry import CLAIM_MODULES, get_claim, make_params, run_hash
from theorylab.runtime import Context


def test_unknown_claim_lists_known_ones():
    with pytest.raises(UsageError, match=r"no such claim: nope \(known: .*near_init"):
        get_claim("nope")


def test_every_claim_module_registers_a_claim_with_documented_params():
    for name in CLAIM_MODULES:
        claim = get_claim(name)
        assert claim.name == name
        for f in dataclasses.fields(claim.params):
            assert f.metadata.get("help"), f"{name}.{f.name} has no help text"


@pytest.mark.parametrize(
    "values, message",
    [
        ({"width": 0}, "width must be >= 1"),
        ({"width": -5}, "width must be >= 1"),
        ({"width": 1.5}, "width must be an integer"),
        ({"width": True}, "width must be an integer"),
        ({"width": "64"}, "width must be an integer"),
        ({"eta": float("nan")}, "eta must be finite"),
        ({"eta": -1.0}, "eta must be > 0"),
        ({"parameterization": "ntk2"}, "parameterization must be one of ntk, mean_field"),
        ({"depth": 3}, "unknown parameter depth for claim near_init"),
        ({"n": 1}, "n must be >= 2"),
        ({"d": 1}, "d must be >= 2"),
    ],
)
def test_bad_values_raise_usage_error(values, message):
    with pytest.raises(UsageError, match=message):
        make_params(get_claim("near_init"), values)


def test_integral_float_is_accepted_as_int():
    assert make_params(get_claim("near_init"), {"width": 512.0}).width == 512


def test_memory_estimate_refuses_absurd_width():
    with pytest.raises(UsageError, match=r"needs an estimated .* available"):
        theorylab.check("near_init", width=10**12)


def test_run_hash_depends_on_settings_only():
    ctx = Context(seed=3)
    a = run_hash("near_init", {"width": 64}, ctx)
    assert a == run_hash("near_init", {"width": 64}, Context(seed=3))
    assert a != run_hash("near_init", {"width": 64}, Context(seed=4))
    assert a != run_hash("near_init", {"width": 128}, ctx)


def test_package_check_is_callable_even_after_cli_module_import():
    import theorylab.check as cli_module  # rebinds theorylab.check to the module

    assert theorylab.check is cli_module
    report = theorylab.check("near_init", width=32, rungs=2, steps=5, n=8, d=3)
    assert report.claim == "near_init"
