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


def test_exclusive_lower_bound_refuses_the_bound_and_below_with_one_message():
    """``param(above=0.0)``: zero and negative step sizes get the same message (an inclusive
    minimum plus a separate check used to say ">= 0" for -1 and "> 0" for 0)."""
    claim = get_claim("memorization")
    for value in (0.0, -1.0):
        with pytest.raises(UsageError, match=r"^lr must be > 0\.0, got"):
            make_params(claim, {"lr": value})
    assert make_params(claim, {"lr": 1e-300}).lr == 1e-300
    lr = next(f for f in dataclasses.fields(claim.params) if f.name == "lr")
    assert lr.metadata["above"] == 0.0


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


# One value parser, one settings hash, one memory guard -------------------------------------


def test_parse_list_reads_and_refuses_like_every_command():
    from theorylab.registry import parse_list

    assert parse_list("--p-grid", "50, 100,200", int, minimum=1) == [50, 100, 200]
    assert parse_list("--f", "0.5,2", float, above=0) == [0.5, 2.0]
    for text, kwargs, message in [
        ("1,,2", {}, "empty value"),
        ("1,2,", {}, "empty value"),
        ("", {}, "empty value"),
        ("1,x", {"base": int}, "--l must be an integer, got 'x'"),
        ("1,nan", {}, "must be finite"),
        ("0,1", {"above": 0}, "values must be > 0"),
        ("0,1", {"base": int, "minimum": 1}, "values must be >= 1"),
        ("3,3", {"base": int}, "repeats a value"),
    ]:
        base = kwargs.pop("base", float)
        with pytest.raises(UsageError, match=message):
            parse_list("--l", text, base, **kwargs)


def test_the_settings_hash_kept_its_values():
    """Stores and reports written before the hash became one function name the same runs
    (the literals are sha256 of the canonical JSON, computed by hand from the old code)."""
    from theorylab.registry import settings_hash
    from theorylab.store import param_hash

    assert param_hash("near_init", {"width": 64}, "cpu", "float64") == "3f985fef3fad5321"
    assert run_hash("near_init", {"width": 64}, Context(seed=3)) == "33c590fb67bce3f5"
    assert settings_hash(a=1, b={"x": [1, 2]}) == settings_hash(b={"x": [1, 2]}, a=1)


def test_memory_guard_treats_an_overflowing_estimate_as_infinite():
    from theorylab.registry import Claim, check_memory

    @dataclasses.dataclass(frozen=True)
    class P:
        n: int = 1

    def estimate(p):
        return 8.0 * 10**400  # OverflowError: int too large to convert to float

    claim = Claim("toy", "t", P, run=lambda p, ctx: None, estimate_bytes=estimate)
    with pytest.raises(UsageError, match=r"needs an estimated inf B .* 1.0 KiB is available"):
        check_memory(claim, P(), "cpu", available=1024)
    small = Claim("toy", "t", P, run=lambda p, ctx: None, estimate_bytes=lambda p: 100)
    check_memory(small, P(), "cpu", available=1024)


def test_integers_beyond_int64_are_refused():
    with pytest.raises(UsageError, match="width must be within .* got a 31-digit integer"):
        make_params(get_claim("near_init"), {"width": 10**30})
    assert make_params(get_claim("near_init"), {"width": 2**20}).width == 2**20


def test_simulate_and_compare_may_be_dotted_paths_imported_at_the_first_call():
    from theorylab.registry import Claim

    @dataclasses.dataclass(frozen=True)
    class P:
        pass

    claim = Claim("lazy_example", "s", P, simulate="math.hypot", compare="no_such_module.f")
    assert repr(claim.simulate) == "<lazy math.hypot>"  # declared, not yet imported
    assert claim.simulate(3.0, 4.0) == 5.0
    with pytest.raises(ModuleNotFoundError):
        claim.compare(None, None)  # a wrong path fails where it is used, not at declaration
    lazy = get_claim("supermask")
    assert repr(lazy.simulate) == "<lazy theorylab.claims.supermask.simulate.simulate>"
