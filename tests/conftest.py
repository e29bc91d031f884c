"""Fixtures shared by the test files of several claims and commands."""

import pytest


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if a claim would run: a refusal (exit 2) must come before any work."""
    import theorylab.registry as registry

    def refuse(*args, **kwargs):
        raise AssertionError("the claim ran although the request should have been refused")

    monkeypatch.setattr(registry, "run_claim", refuse)
