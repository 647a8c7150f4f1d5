"""The suite's own rules hold: in CI a missing dependency is a failure, never a skip."""

from __future__ import annotations

import os

import pytest


def test_a_missing_dependency_fails_in_ci() -> None:
    if not os.environ.get("CI"):
        pytest.skip("CI only: locally importorskip keeps skipping")
    with pytest.raises(ModuleNotFoundError):
        pytest.importorskip("gapless_no_such_dependency")


def test_pytest_timeout_is_active(pytestconfig: pytest.Config) -> None:
    """A hang must fail the test instead of stalling CI."""
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert float(pytestconfig.getini("timeout")) > 0
