"""Claim registry, typed parameters, the claim shape, and the one function that runs a check.

Each claim module defines a frozen dataclass of parameters whose fields are declared with
:func:`param` (default, help text, bounds, choices) and registers a :class:`Claim`. The CLI turns
those fields into options (``kernel_samples`` -> ``--kernel-samples``) with the help text,
type and default shown; :func:`make_params` validates values from either the CLI or the Python
API with the same messages.

The claim shape (docs/design.md)::

    Params --simulate(params, ctx)--> Measurement --compare(measurement, params)--> Comparison

``simulate`` measures (arrays and numbers in a plain dataclass, no verdicts); ``compare`` is a
pure function turning a measurement into statements, hypotheses, quantities and series; the
registry alone builds the :class:`~theorylab.report.Report`. Cheap ``preconditions`` run before
the simulation, so a check whose own required hypothesis fails stops at once (inconclusive).
A claim's figure is ``theorylab.plots.<claim>.plot(report, path)``, drawn from the report alone.
Claims declare :class:`Mutant` s, planted mistakes in their theory that ``python -m
theorylab.power`` applies one at a time to show the check can fail.

Claims outside the package (docs/user_claims.md) register with :func:`register` (or the
decorator :func:`register_claim`) in a module of their own, or through an entry point of the
group ``theorylab.claims`` in the user's package metadata; they then get everything a built-in
claim has (``--help``, JSON, exit status, sweeps, ``--plot``, the power audit).

This module imports neither torch nor any claim at import time: ``--list`` and ``--help``
stay light.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import json
import keyword
import math
import pkgutil
import time
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import Inconclusive, UsageError
from .report import Hypothesis, Report, Statement

if TYPE_CHECKING:
    from .runtime import Context

# name -> where the claim is: every module (or package) of theorylab/claims/ is a claim named
# after its file (it defines CLAIM); claims registered from outside (register(), entry points)
# are added with their module ("pkg.mod", which defines CLAIM or registers the claim when
# imported) or their entry point value ("pkg.mod:attr"). Modules are imported on first use.
CLAIM_MODULES = {
    info.name: f"theorylab.claims.{info.name}"
    for info in pkgutil.iter_modules(importlib.import_module("theorylab.claims").__path__)
    if not info.name.startswith("_")
}
BUILTIN_CLAIMS = frozenset(CLAIM_MODULES)
ENTRY_POINT_GROUP = "theorylab.claims"
# Claims registered in this process by register() / register_claim, by name.
_REGISTERED: dict[str, Claim] = {}
# Entry points that cannot name a claim (a clash, a bad name): the one-line error, raised when
# the claim is asked for, so one broken package never breaks ``import theorylab``.
_BROKEN: dict[str, str] = {}
# Names whose module is being imported by get_claim: that module may register them.
_LOADING: set[str] = set()

# A run may use at most this fraction of the memory available when it starts.
MEMORY_FRACTION = 0.5
# Integer parameters beyond int64 are refused by make_params (a claim's arithmetic on a
# 400-digit width would overflow a float before any bound of its own is checked).
INT_LIMIT = 2**63 - 1


def param(default, help: str, minimum=None, maximum=None, choices=None, above=None):
    """A dataclass field carrying its CLI help text and validation bounds: ``minimum`` and
    ``maximum`` inclusive, ``above`` exclusive (a step size: ``above=0``)."""
    return dataclasses.field(
        default=default,
        metadata={
            "help": help, "minimum": minimum, "maximum": maximum, "choices": choices,
            "above": above,
        },
    )  # fmt: skip


@dataclass
class Comparison:
    """What :func:`compare` returns: everything of the report that is not run metadata."""

    statements: list[Statement]
    hypotheses: list[Hypothesis] = field(default_factory=list)
    quantities: dict[str, Any] = field(default_factory=dict)
    series: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Mutant:
    """A planted mistake in a claim's theory (or measurement), applied at run time.

    ``patches`` maps a dotted attribute path (``"theorylab.theory.du2019.h_inf"``) to its
    replacement (an object, or the dotted path of one, imported only when the mutant is
    applied so that declaring mutants keeps a claim module light); the claim must reach the
    patched object through its module attribute (call ``du2019.h_inf(...)``, not a name
    imported with ``from ... import``), or the mutant changes nothing and is not caught. ``caught``
    is the declared expectation: True when the check must flip (violated or inconclusive);
    False documents a known blind spot, which the audit still runs and reports.
    """

    name: str
    description: str
    patches: dict[str, Any]
    caught: bool = True

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        saved = []
        try:
            for path, replacement in self.patches.items():
                module_name, _, attr = path.rpartition(".")
                owner = _resolve(module_name)
                if not hasattr(owner, attr):
                    raise AttributeError(f"mutant {self.name}: {path} does not exist")
                saved.append((owner, attr, getattr(owner, attr)))
                if isinstance(replacement, str):  # a dotted path, imported only when applied
                    replacement = _resolve(replacement)
                setattr(owner, attr, replacement)
            yield
        finally:
            for owner, attr, original in reversed(saved):
                setattr(owner, attr, original)


def _resolve(dotted: str) -> Any:
    """The module or object named ``dotted`` (``pkg.module`` or ``pkg.module.Class``)."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


class _Lazy:
    """A function named by its dotted path, imported at its first call: a claim module that
    names its engine this way stays light to import (``--help``, ``--list``)."""

    def __init__(self, dotted: str):
        self.dotted = dotted
        self.function: Callable | None = None

    def __call__(self, *args, **kwargs):
        if self.function is None:
            self.function = _resolve(self.dotted)
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<lazy {self.dotted}>"


@dataclass(frozen=True)
class Claim:
    """A registered claim.

    New claims give ``simulate`` and ``compare`` (the claim shape), each a function or the
    dotted path of one (``"pkg.claim.simulate.simulate"``, imported at the first call);
    ``run`` (params, ctx) -> Report is the older single-function form, still accepted.
    ``negative_control`` holds parameter values under which the check must report a
    violation (the contract test runs it); ``quick`` holds small parameter values for fast
    tests and for the power audit (``power_params`` overrides them for the audit where it
    needs more).
    """

    name: str
    summary: str
    params: type
    run: Callable[[Any, Context], Report] | None = None
    estimate_bytes: Callable[[Any], float] | None = None
    plot: Callable[[Report, str], None] | None = None
    simulate: Callable[[Any, Context], Any] | str | None = None
    compare: Callable[[Any, Any], Comparison] | str | None = None
    preconditions: Callable[[Any], list[Hypothesis]] | None = None
    mutants: tuple[Mutant, ...] = ()
    quick: dict[str, Any] = field(default_factory=dict)
    power_params: dict[str, Any] | None = None
    negative_control: dict[str, Any] | None = None
    citation: str = ""

    def __post_init__(self):
        if self.run is None and (self.simulate is None or self.compare is None):
            raise TypeError(f"claim {self.name}: give simulate and compare (or run)")
        for name in ("simulate", "compare"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, _Lazy(getattr(self, name)))


def get_claim(name: str) -> Claim:
    """The claim registered as ``name`` (UsageError, one line, for an unknown name, a name two
    registrations claim, or an entry point that does not load or does not give a Claim)."""
    if name in _BROKEN:
        raise UsageError(_BROKEN[name])
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in CLAIM_MODULES:
        raise UsageError(f"no such claim: {name} (known: {', '.join(sorted(CLAIM_MODULES))})")
    target = CLAIM_MODULES[name]
    if name in BUILTIN_CLAIMS and target == f"theorylab.claims.{name}":
        return importlib.import_module(target).CLAIM
    return _load_external(name, target)


def _claim_name_error(name: Any) -> str | None:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        return f"claim name {name!r} must be a Python identifier (letters, digits, _)"
    return None


def _origin(claim: Claim) -> str:
    """The module a claim comes from (where a fresh process finds it again)."""
    for fn in (claim.run, claim.simulate):
        if fn is not None and not isinstance(fn, _Lazy) and getattr(fn, "__module__", None):
            return fn.__module__
    return claim.params.__module__


def register(claim: Claim) -> Claim:
    """Register a claim defined outside theorylab/claims/ and return it.

    Call it at the top level of the module that defines the claim: the module is recorded,
    so a sweep worker (a fresh process) imports it and finds the claim again. Registering a
    name that a built-in claim or another module already uses raises :class:`UsageError`
    (one line naming both); registering again from the same module (a re-import) replaces
    the earlier registration.

    Example:
        >>> import dataclasses
        >>> @dataclasses.dataclass(frozen=True)
        ... class P:
        ...     n: int = param(3, "a size", minimum=1)
        >>> def run(p, ctx):
        ...     return Report("doc_toy", {}, ctx.seed, ctx.device, ctx.dtype,
        ...                   statements=[Statement.at_most("s", "n <= 3", p.n, 3)])
        >>> register(Claim("doc_toy", "a toy claim", P, run=run)).name
        'doc_toy'
        >>> register(Claim("near_init", "mine", P, run=run))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        theorylab.errors.UsageError: claim name near_init is already taken by theorylab.claims...
        >>> unregister("doc_toy")
    """
    if not isinstance(claim, Claim):
        raise UsageError(f"register() takes a theorylab Claim, got {type(claim).__name__}")
    problem = _claim_name_error(claim.name)
    if problem:
        raise UsageError(problem)
    name, origin = claim.name, _origin(claim)
    taken = CLAIM_MODULES.get(name)
    if name in _REGISTERED:
        taken = _origin(_REGISTERED[name])
    if taken is not None and taken.partition(":")[0] != origin and name not in _LOADING:
        raise UsageError(
            f"claim name {name} is already taken by {taken}; rename the claim registered "
            f"from {origin}"
        )
    _REGISTERED[name] = claim
    CLAIM_MODULES.setdefault(name, origin)
    return claim


def unregister(name: str) -> None:
    """Forget a claim registered with :func:`register` (tests; built-in claims stay)."""
    if name in BUILTIN_CLAIMS:
        raise UsageError(f"{name} is a built-in claim and cannot be unregistered")
    _REGISTERED.pop(name, None)
    _BROKEN.pop(name, None)
    CLAIM_MODULES.pop(name, None)


def register_claim(
    name: str,
    *,
    params: type,
    summary: str,
    citation: str = "",
    **options: Any,
) -> Callable[[Callable[[Any, Context], Report]], Callable[[Any, Context], Report]]:
    """Decorator: register ``run(params, ctx) -> Report`` as claim ``name``.

    ``params`` is a frozen dataclass whose fields are declared with :func:`param`;
    ``options`` are the other :class:`Claim` fields (``quick``, ``negative_control``,
    ``plot``, ``mutants``, ``estimate_bytes``, ...). The function is returned unchanged, with
    the claim as its ``claim`` attribute; see :func:`register` for names and clashes.
    """

    def decorate(run: Callable[[Any, Context], Report]) -> Callable[[Any, Context], Report]:
        if not callable(run):
            raise UsageError(f"register_claim({name!r}) decorates a function run(params, ctx)")
        if not (isinstance(params, type) and dataclasses.is_dataclass(params)):
            raise UsageError(f"claim {name}: params must be a dataclass, got {params!r}")
        run.claim = register(Claim(name, summary, params, run=run, citation=citation, **options))
        return run

    return decorate


def _load_external(name: str, target: str) -> Claim:
    """Import ``module`` or ``module:attr`` and return the claim called ``name`` it gives."""
    module_name, _, attr = target.partition(":")
    where = f"claim {name} ({target})"
    _LOADING.add(name)
    try:
        obj = importlib.import_module(module_name)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
    except UsageError as exc:  # the module registered a clashing name on import
        raise UsageError(f"{where}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any failure to load is one line, exit 2
        raise UsageError(f"{where} could not be loaded: {type(exc).__name__}: {exc}") from None
    finally:
        _LOADING.discard(name)
    if name in _REGISTERED:  # importing the module registered it (decorator, register())
        claim = _REGISTERED[name]
    else:
        claim = getattr(obj, "claim", None) if callable(obj) else None
        if isinstance(obj, Claim):
            claim = obj
        elif isinstance(obj, types.ModuleType):
            claim = getattr(obj, "CLAIM", None)
    if not isinstance(claim, Claim):
        found = type(obj).__name__
        raise UsageError(
            f"{where} does not give a theorylab Claim (found a {found}): point the entry point "
            "at a Claim, at a function decorated with theorylab.register_claim, or at a module "
            "that registers the claim"
        )
    if claim.name != name:
        raise UsageError(f"{where} gives a claim named {claim.name!r}, not {name!r}")
    _REGISTERED.setdefault(name, claim)
    return claim


def discover_entry_points() -> None:
    """Add the claims named by ``theorylab.claims`` entry points to :data:`CLAIM_MODULES`.

    Nothing is imported here (the claims load on first use). A name already used by a
    built-in claim or by another distribution is recorded as broken: asking for that claim
    (or listing claims) is then a one-line UsageError naming both, and the other claims
    work. Runs once at import; call it again after installing a package in this process.
    """
    from importlib.metadata import entry_points

    try:
        found = list(entry_points(group=ENTRY_POINT_GROUP))
    except Exception:  # noqa: BLE001 - unreadable metadata of some other package
        return
    seen: dict[str, str] = {}
    for ep in sorted(found, key=lambda e: (e.name, e.value)):
        if ep.name not in BUILTIN_CLAIMS:  # listed, so --list shows a broken one's error too
            CLAIM_MODULES.setdefault(ep.name, ep.value.strip())
        name, value = ep.name, ep.value.strip()
        dist = getattr(getattr(ep, "dist", None), "name", None) or "an installed package"
        label = f"entry point {name} = {value!r} of {dist}"
        problem = _claim_name_error(name)
        if problem:
            _BROKEN[name] = f"{label}: {problem}"
            continue
        if value.count(":") > 1 or not all(
            part.isidentifier() for part in value.replace(":", ".").split(".")
        ):
            _BROKEN[name] = f"{label}: the value must be 'module' or 'module:attribute'"
            continue
        if name in seen and seen[name] != label:
            _BROKEN[name] = f"claim name {name} is given by two entry points: {seen[name]}; {label}"
            continue
        seen[name] = label
        if name in BUILTIN_CLAIMS:
            _BROKEN[name] = (
                f"{label} clashes with the built-in claim {name}: rename it in that "
                "package's entry points"
            )
            continue
        CLAIM_MODULES.setdefault(name, value)


def plot_function(claim: Claim) -> Callable[[Report, str], None] | None:
    """The claim's figure: ``Claim.plot`` if given, else ``theorylab.plots.<name>.plot``."""
    if claim.plot is not None:
        return claim.plot
    try:
        module = importlib.import_module(f"theorylab.plots.{claim.name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"theorylab.plots.{claim.name}":
            return None
        raise
    return getattr(module, "plot", None)


def all_claims() -> list[Claim]:
    """Every registered claim, by name (UsageError, one line, if one cannot be loaded)."""
    return [get_claim(name) for name in sorted(set(CLAIM_MODULES) | set(_BROKEN))]


def field_type(params_cls: type, f: dataclasses.Field) -> tuple[type, bool]:
    """(base type, optional?) of a parameter field: int, float, str or bool."""
    hint = typing.get_type_hints(params_cls)[f.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = len(args) < len(typing.get_args(hint))
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0], optional
    return hint, False


def _coerce(name: str, value: Any, base: type, optional: bool) -> Any:
    if value is None:
        if optional:
            return None
        raise UsageError(f"{name} needs a value")
    if base is bool:
        if isinstance(value, bool):
            return value
        raise UsageError(f"{name} must be true or false, got {value!r}")
    if base is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{name} must be an integer, got {value!r}")
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise UsageError(f"{name} must be an integer, got {value!r}")
        if abs(value) > INT_LIMIT:  # past int64 no size is meaningful, and floats overflow
            digits = len(str(abs(int(value))))
            raise UsageError(f"{name} must be within +-{INT_LIMIT}, got a {digits}-digit integer")
        return int(value)
    if base is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise UsageError(f"{name} must be finite, got {value!r}")
        return float(value)
    if base is str:
        if not isinstance(value, str):
            raise UsageError(f"{name} must be a string, got {value!r}")
        return value
    raise TypeError(f"unsupported parameter type {base} for {name}")


def parse_value(label: str, text: str, base: type, optional: bool = False) -> Any:
    """One command-line value typed like its parameter: the one parser behind ``check``'s
    options and ``sweep``'s ``--grid`` values (``label`` names the option in the message).

    ``none`` (any case) is the computed default of an optional parameter; booleans read
    true/false/yes/no/1/0. Bounds are checked later, by :func:`make_params`.

    Example:
        >>> parse_value("--width", "64", int), parse_value("--eta", "none", float, True)
        (64, None)
        >>> parse_value("--width", "1.5", int)
        Traceback (most recent call last):
        ...
        theorylab.errors.UsageError: --width must be an integer, got '1.5'
    """
    text = text.strip()
    if optional and text.lower() == "none":
        return None
    if base is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise UsageError(f"{label} must be true or false, got {text!r}")
    if base in (int, float):
        try:
            return base(text)
        except ValueError:
            kind = "an integer" if base is int else "a number"
            raise UsageError(f"{label} must be {kind}, got {text!r}") from None
    return text


def split_list(label: str, text: str) -> list[str]:
    """The items of a comma-separated list, stripped; an empty item (``1,,2``, a trailing
    comma, an empty string) is refused, so every command reads a list the same way.

    Example:
        >>> split_list("--p-grid", " 1, 2,3 ")
        ['1', '2', '3']
        >>> split_list("--p-grid", "1,,2")
        Traceback (most recent call last):
        ...
        theorylab.errors.UsageError: --p-grid '1,,2': empty value (values are separated by commas)
    """
    items = [item.strip() for item in text.split(",")]
    if any(item == "" for item in items):
        raise UsageError(f"{label} {text!r}: empty value (values are separated by commas)")
    return items


def parse_list(
    label: str,
    text: str,
    base: type = float,
    *,
    minimum: float | None = None,
    above: float | None = None,
    unique: bool = True,
) -> list[Any]:
    """A comma-separated list parameter (``p_grid="50,100,200"``), typed and checked:
    every item of type ``base`` (finite for floats), ``>= minimum`` and ``> above`` when
    given, no item twice when ``unique``. Claims parse their list-valued string parameters
    with this in ``validate()``, so check and sweep refuse the same values with the same line.

    Example:
        >>> parse_list("--width-factors", "0.5,1,2", float, above=0)
        [0.5, 1.0, 2.0]
        >>> parse_list("--p-grid", "10,x", int)
        Traceback (most recent call last):
        ...
        theorylab.errors.UsageError: --p-grid must be an integer, got 'x'
    """
    values = [parse_value(label, item, base) for item in split_list(label, text)]
    for value in values:
        if isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"{label} must be finite numbers, got {text!r}")
        if minimum is not None and value < minimum:
            raise UsageError(f"{label} values must be >= {minimum}, got {value!r}")
        if above is not None and value <= above:
            raise UsageError(f"{label} values must be > {above}, got {value!r}")
    if unique and len(set(values)) != len(values):
        raise UsageError(f"{label} repeats a value: {text!r}")
    return values


def make_params(claim: Claim, values: dict[str, Any]):
    """Validated parameter dataclass from user values (unknown names and bad values: UsageError)."""
    fields = {f.name: f for f in dataclasses.fields(claim.params)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UsageError(
            f"unknown parameter {unknown[0]} for claim {claim.name} (known: {', '.join(fields)})"
        )
    clean = {}
    for name, f in fields.items():
        if name not in values:
            continue
        base, optional = field_type(claim.params, f)
        value = _coerce(name, values[name], base, optional)
        meta = f.metadata
        if value is not None:
            if meta.get("choices") and value not in meta["choices"]:
                choices = ", ".join(meta["choices"])
                raise UsageError(f"{name} must be one of {choices}, got {value!r}")
            if meta.get("above") is not None and not value > meta["above"]:
                raise UsageError(f"{name} must be > {meta['above']}, got {value!r}")
            if meta.get("minimum") is not None and value < meta["minimum"]:
                raise UsageError(f"{name} must be >= {meta['minimum']}, got {value!r}")
            if meta.get("maximum") is not None and value > meta["maximum"]:
                raise UsageError(f"{name} must be <= {meta['maximum']}, got {value!r}")
        clean[name] = value
    params = claim.params(**clean)
    validate = getattr(params, "validate", None)
    if validate is not None:
        validate()
    return params


def settings_hash(**settings: Any) -> str:
    """The one settings hash: sha256 of the canonical JSON of ``settings`` (keys sorted), 16
    hex digits. :func:`run_hash` (with the seed) and the sweep store's cell hash (without it)
    are both this function.

    Example:
        >>> settings_hash(a=1, b=[2, 3]) == settings_hash(b=[2, 3], a=1)
        True
    """
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def run_hash(claim: str, params: dict, ctx: Context) -> str:
    """Identifies a run by its settings (claim, every parameter, seed, device, dtype)."""
    return settings_hash(
        claim=claim, params=params, seed=ctx.seed, device=ctx.device, dtype=ctx.dtype
    )


def check_memory(claim: Claim, params: Any, device: str, available: float | None = None) -> None:
    """The one memory guard: UsageError when the claim's estimate for ``params`` exceeds
    ``MEMORY_FRACTION`` of the memory available on ``device`` (``available`` if given, else
    measured now). An estimate too large for a float counts as infinite, never a crash."""
    if claim.estimate_bytes is None:
        return
    from .runtime import available_memory_bytes, format_bytes

    try:
        need = float(claim.estimate_bytes(params))
    except OverflowError:
        need = math.inf
    if available is None:
        available = available_memory_bytes(device)
    if need > MEMORY_FRACTION * available:
        raise UsageError(
            f"{claim.name} with these parameters needs an estimated {format_bytes(need)} of "
            f"{device} memory; {format_bytes(available)} is available (limit "
            f"{MEMORY_FRACTION:.0%}): reduce the width or the sizes"
        )


def check(
    name: str, *, seed: int = 0, device: str = "cpu", dtype: str = "float64", **values
) -> Report:
    """Run claim ``name`` and return its :class:`Report`.

    Bad input raises :class:`UsageError` before any work; a numerical failure during the run
    gives a report with verdict ``"inconclusive"`` and ``failure`` set (it does not raise).

    Example:
        >>> report = check("near_init", width=256, steps=50)  # doctest: +SKIP
        >>> report.verdict  # doctest: +SKIP
        'holds'
    """
    claim = get_claim(name)
    params = make_params(claim, values)
    return run_claim(claim, params, seed=seed, device=device, dtype=dtype)


def run_claim(
    claim: Claim,
    params: Any,
    *,
    seed: int = 0,
    device: str = "cpu",
    dtype: str = "float64",
    on_measurement: Callable[[Any], None] | None = None,
) -> Report:
    """Run a registered claim on validated parameters (see :func:`check`).

    ``on_measurement`` (optional) receives the claim's measurement once ``simulate`` returns
    (a test session keeps it, so unit tests of ``compare`` need no second simulation).
    """
    import torch

    from .runtime import Context

    name = claim.name
    ctx = Context(seed=seed, device=device, dtype=dtype)
    check_memory(claim, params, device)
    param_dict = dataclasses.asdict(params)
    start = time.perf_counter()
    try:
        report = _build_report(claim, params, ctx, on_measurement)
    except Inconclusive as exc:
        report = Report(claim=name, params={}, seed=seed, device=device, dtype=dtype)
        report.failure, report.failure_step = str(exc), exc.step
    report.claim, report.params, report.seed = name, param_dict, seed
    report.device, report.dtype = device, dtype
    report.theorylab_version, report.torch_version = __version__, torch.__version__
    report.run_hash = run_hash(name, param_dict, ctx)
    report.timing = {"total_s": round(time.perf_counter() - start, 3)}
    return report


def _build_report(
    claim: Claim, params: Any, ctx: Context, on_measurement: Callable[[Any], None] | None = None
) -> Report:
    """The report of one run: simulate -> compare (or the older ``run``)."""
    if claim.run is not None and claim.simulate is None:
        report = claim.run(params, ctx)
        if not isinstance(report, Report):
            raise UsageError(
                f"claim {claim.name}: its run function returned {type(report).__name__}, "
                "not a theorylab Report"
            )
        return report
    report = Report(claim=claim.name, params={}, seed=ctx.seed, device=ctx.device, dtype=ctx.dtype)
    if claim.preconditions is not None:
        report.hypotheses.extend(claim.preconditions(params))
        unmet = [h for h in report.hypotheses if h.required and not h.met]
        if unmet:  # the check's own precondition fails: no simulation can give a verdict
            report.failure = f"required hypothesis {unmet[0].name} not met: {unmet[0].detail}"
            return report
    measurement = claim.simulate(params, ctx)
    if on_measurement is not None:
        on_measurement(measurement)
    comparison = claim.compare(measurement, params)
    if not isinstance(comparison, Comparison):
        raise TypeError(f"{claim.name}: compare returned {type(comparison).__name__}")
    report.statements = list(comparison.statements)
    report.hypotheses.extend(comparison.hypotheses)
    report.quantities = dict(comparison.quantities)
    report.series = dict(comparison.series)
    return report


discover_entry_points()
