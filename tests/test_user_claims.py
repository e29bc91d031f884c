"""Claims defined outside theorylab: the example project under examples/hoeffding, installed
the way pip installs it (its entry point read from a dist-info directory on sys.path, generated
from its own pyproject.toml), then used through every public surface: check, --help, JSON,
--plot, sweep, the power audit, and its own tests with the pytest plugin. And the errors a user
can make: name clashes, malformed entry points, a run that returns no Report, a run that
raises.

The example is installed in-process (a dist-info directory and its src/ on sys.path) rather
than by ``pip install`` into a fresh virtual environment, which takes minutes; the entry point
is read by importlib.metadata from that directory exactly as from a pip-installed package.
"""

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Imported before pytester snapshots sys.modules (in-process pytester runs drop the modules
# they import, and torch and numpy's C extensions cannot be imported twice in one process).
import scipy.special  # noqa: F401
import torch  # noqa: F401

import theorylab
import theorylab.check as check_cli
from theorylab import registry
from theorylab.errors import UsageError
from theorylab.registry import Claim, param
from theorylab.report import Report, Statement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hoeffding"
QUICK = ["--repeats", "2000"]


def install_metadata(project: Path, site: Path) -> Path:
    """Write ``NAME-VERSION.dist-info`` (METADATA, entry_points.txt) for ``project`` into
    ``site``, from the project's pyproject.toml, as pip would."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    dist = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    lines = []
    for group, entries in meta.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {value}" for name, value in entries.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return dist


def fake_package(site: Path, name: str, entry_points: dict[str, str]) -> None:
    dist = site / f"{name}-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    body = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (dist / "entry_points.txt").write_text("[theorylab.claims]\n" + body)


@pytest.fixture
def clean_registry():
    """Registry state restored in place after the test (other modules hold the same dicts)."""
    saved = (dict(registry.CLAIM_MODULES), dict(registry._REGISTERED), dict(registry._BROKEN))
    path = list(sys.path)
    yield
    sys.path[:] = path
    for live, old in zip(
        (registry.CLAIM_MODULES, registry._REGISTERED, registry._BROKEN), saved, strict=True
    ):
        live.clear()
        live.update(old)


@pytest.fixture
def example(tmp_path, clean_registry):
    """The example project installed in this process; yields the env for subprocesses."""
    site = tmp_path / "site"
    install_metadata(EXAMPLE, site)
    sys.path[:0] = [str(EXAMPLE / "src"), str(site)]
    registry.discover_entry_points()
    env = dict(os.environ, THEORYLAB_PROGRESS="0")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(EXAMPLE / "src"), str(site), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    yield env
    sys.modules.pop("hoeffding_claim", None)


def cli(capsys, *argv):
    status = check_cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# The example, end to end -------------------------------------------------------------------
def test_the_entry_point_gives_the_claim_with_its_metadata(example):
    claim = registry.get_claim("hoeffding")
    assert claim.citation == "Hoeffding (JASA 1963), Theorem 2"
    assert registry.CLAIM_MODULES["hoeffding"] == "hoeffding_claim"
    assert "hoeffding" in theorylab.CLAIMS or "hoeffding" in registry.CLAIM_MODULES


def test_check_help_json_plot_and_exit_status(example, capsys, tmp_path):
    status, out, _ = cli(capsys, "--list")
    assert status == 0 and re.search(r"^hoeffding +Hoeffding's inequality", out, re.M)
    status, out, _ = cli(capsys, "hoeffding", "--help")
    assert status == 0
    assert re.search(r"--repeats INT +independent means drawn .*\[>= 100\]", out)
    assert "(default: 20000)" in out
    report_path, figure = tmp_path / "r.json", tmp_path / "f.png"
    status, out, _ = cli(capsys, "hoeffding", *QUICK, "--json", str(report_path), "--plot",
                         str(figure))  # fmt: skip
    assert status == 0 and "verdict: holds" in out
    report = Report.from_json(report_path.read_text())
    assert report.claim == "hoeffding" and report.params["repeats"] == 2000
    assert report.run_hash and report.statement("tail_vs_exact").power == "exact"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, out, _ = cli(capsys, "hoeffding", *QUICK, "--block", "25")  # negative control
    assert status == 1 and "verdict: violated" in out
    status, _, err = cli(capsys, "hoeffding", "--block", "3")
    assert status == 2
    assert err == "theorylab.check: error: block must divide n, got n=100, block=3\n"


def test_the_installed_command_line_finds_the_claim(example):
    # A fresh interpreter: the claim is found only through the installed entry point.
    result = subprocess.run(
        [sys.executable, "-m", "theorylab.check", "hoeffding", *QUICK, "--block", "25",
         "--json", "-", "--quiet"],
        capture_output=True, text=True, env=example, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert Report.from_json(result.stdout).statement("hoeffding_bound").holds is False


def test_sweep_runs_the_user_claim_in_workers(example, tmp_path):
    from theorylab.store import Store

    store = tmp_path / "s.sqlite"
    result = subprocess.run(
        [sys.executable, "-m", "theorylab.sweep", "hoeffding", "--grid", "repeats=500",
         "--seeds", "0:2", "--workers", "1", "--store", str(store), "--quiet"],
        capture_output=True, text=True, env=example, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with Store(str(store), create=False) as s:
        rows = list(s.rows())
    assert sorted(r.seed for r in rows) == [0, 1]
    assert {r.verdict for r in rows} == {"holds"}


def test_power_audit_catches_the_declared_mutant(example):
    from theorylab.power import audit

    result = audit("hoeffding")
    outcome = {m.name: (m.expected_caught, m.caught) for m in result.mutants}
    assert result.baseline_verdict == "holds"
    assert outcome == {"constant_8": (True, True), "one_sided": (False, False)}
    assert result.exit_status == 0


def test_audit_from_the_session_cache_reuses_a_matching_baseline_only(example):
    """ReportCache.audit: the baseline is the cached run at the audit's settings, the result
    the same as a fresh audit's; a report of other settings is refused as a baseline."""
    from theorylab.power import audit, audit_settings
    from theorylab.pytest_plugin import ReportCache

    cache = ReportCache()
    cached = cache.audit("hoeffding")
    again = cache.audit("hoeffding", mutants=["constant_8"])
    assert (cache.runs, cache.reused) == (1, 1)
    assert cached.to_dict() == audit("hoeffding").to_dict()
    assert again.mutants[0].caught
    settings = audit_settings(registry.get_claim("hoeffding"))
    other_seed = cache.run("hoeffding", seed=1, **settings)
    with pytest.raises(ValueError, match="baseline report is hoeffding seed 1"):
        audit("hoeffding", baseline=other_seed)


def test_the_example_projects_own_tests_pass(example, pytester):
    args = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark"]
    result = pytester.runpytest(str(EXAMPLE / "tests"), *args)
    result.assert_outcomes(passed=4)
    result = pytester.runpytest(str(EXAMPLE / "tests"), *args, "--theorylab-seeds", "3")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_negative_control_is_violated: hoeffding: 3/3 passed*"])


def test_the_docs_quote_the_example_as_it_is():
    # Every code block of docs/user_claims.md headed "# file: PATH" is an excerpt of PATH
    # (chunks separated by "..." lines appear verbatim, in order), so the page cannot drift
    # from the example that the tests above run.
    text = (ROOT / "docs" / "user_claims.md").read_text()
    blocks = re.findall(r"```(?:python|toml)\n# file: (\S+)\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    for path, body in blocks:
        source = (ROOT / path).read_text()
        position = 0
        for chunk in re.split(r"^\.\.\.\n", body, flags=re.M):
            found = source.find(chunk, position)
            assert found >= 0, f"docs/user_claims.md quotes {path} wrongly:\n{chunk}"
            position = found + len(chunk)


# Registration errors -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class P:
    n: int = param(3, "a size", minimum=1)


def holds(p, ctx):
    return Report("", {}, ctx.seed, ctx.device, ctx.dtype,
                  statements=[Statement.at_most("s", "n <= 3", p.n, 3)])  # fmt: skip


def test_decorator_registers_and_reimport_replaces(clean_registry, capsys):
    @theorylab.register_claim("toy_user", params=P, summary="a toy", quick={"n": 2})
    def run(p, ctx):
        return holds(p, ctx)

    assert run.claim is registry.get_claim("toy_user")
    assert theorylab.check("toy_user", n=2).verdict == "holds"
    status, out, _ = cli(capsys, "toy_user", "--n", "9")
    assert status == 1 and "verdict: violated" in out
    registry.register(dataclasses.replace(run.claim, summary="again"))  # same module: replaced
    assert registry.get_claim("toy_user").summary == "again"


def test_name_clashes_are_one_line_usage_errors(clean_registry):
    with pytest.raises(UsageError, match="^claim name near_init is already taken by theorylab"):
        registry.register(Claim("near_init", "mine", P, run=holds))
    registry.register(Claim("toy_user", "mine", P, run=holds))
    other = types_module("other_user_module")
    with pytest.raises(UsageError, match="toy_user is already taken by .*other_user_module"):
        registry.register(Claim("toy_user", "theirs", P, run=other))
    with pytest.raises(UsageError, match="must be a Python identifier"):
        registry.register(Claim("my-claim", "x", P, run=holds))
    with pytest.raises(UsageError, match="takes a theorylab Claim, got function"):
        registry.register(holds)
    with pytest.raises(UsageError, match="params must be a dataclass"):
        theorylab.register_claim("toy2", params=dict, summary="x")(holds)


def types_module(name):
    def run(p, ctx):
        return holds(p, ctx)

    run.__module__ = name
    return run


def test_malformed_entry_points_are_one_line_and_exit_2(clean_registry, tmp_path, capsys):
    site = tmp_path / "site"
    fake_package(site, "broken_claims", {
        "missing_module": "no_such_module_xyz",
        "not_a_claim": "json:dumps",
        "near_init": "json",
        "bad_value": "json:dumps:x",
        "wrong_name": "theorylab.claims.pruning:CLAIM",
    })  # fmt: skip
    fake_package(site, "twin_claims", {"missing_module": "other_module"})
    sys.path.insert(0, str(site))
    registry.discover_entry_points()
    expected = {
        "missing_module": "given by two entry points",
        "not_a_claim": "does not give a theorylab Claim (found a function)",
        "near_init": "clashes with the built-in claim near_init",
        "bad_value": "the value must be 'module' or 'module:attribute'",
        "wrong_name": "gives a claim named 'pruning', not 'wrong_name'",
    }
    for name, message in expected.items():
        status, out, err = cli(capsys, name)
        assert status == 2, (name, out, err)
        assert err.count("\n") == 1 and message in err, err
        assert "Traceback" not in err
    status, _, err = cli(capsys, "--list")
    assert status == 2 and err.count("\n") == 1
    (site / "twin_claims-0.1.dist-info" / "entry_points.txt").unlink()
    registry._BROKEN.pop("missing_module")
    registry.discover_entry_points()
    status, _, err = cli(capsys, "missing_module")
    assert status == 2 and "could not be loaded: ModuleNotFoundError" in err


def test_a_run_returning_no_report_or_raising_names_the_claim(clean_registry, capsys):
    registry.register(Claim("no_report", "x", P, run=lambda p, ctx: {"holds": True}))
    status, _, err = cli(capsys, "no_report")
    assert status == 2
    assert err == (
        "theorylab.check: error: claim no_report: its run function returned dict, not a "
        "theorylab Report\n"
    )

    def boom(p, ctx):
        raise RuntimeError("boom")

    registry.register(Claim("raiser", "x", P, run=boom))
    status, _, err = cli(capsys, "raiser")
    assert status == 4
    assert err.startswith("theorylab.check: internal error in raiser: RuntimeError: boom")
    assert err.count("\n") == 1
    traceback_file = re.search(r"traceback in (\S+)\)", err).group(1)
    assert "boom" in Path(traceback_file).read_text()
