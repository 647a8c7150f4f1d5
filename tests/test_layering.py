"""The import contracts in pyproject.toml hold, and each one fails on the violation it exists
to catch (checked on a copy of the package with one bad import planted in it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import importlinter  # noqa: F401  (the dev extra installs it; a missing one fails here)
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(project: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    args = [str(LINT), "--no-cache", *(a for c in contracts for a in ("--contract", c))]
    env = {**os.environ, "PYTHONPATH": str(project / "src")}  # the copy, not the install
    return subprocess.run(args, cwd=project, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src" / "gapless", tmp_path / "src" / "gapless",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("transport/_bad.py", "import gapless.engine", "layers"),
        ("model/_bad.py", "import gapless.obs", "layers"),
        ("venues/_bad.py", "import gapless.store", "layers"),
        ("engine/_bad.py", "import gapless.runtime", "layers"),
        ("sim/_bad.py", "import gapless.model.schema", "sim-independent"),
        ("venues/binance/_bad.py", "import gapless.venues.okx.adapter", "venues-independent"),
        ("venues/common/_bad.py", "import gapless.venues.kraken", "venues-shared-below-adapters"),
        ("engine/_bad.py", "import gapless.venues.registry", "engine-through-venue-interface"),
        ("cli/simcmd.py", "import gapless.cli.main", "cli-acyclic"),
    ],
)
def test_a_planted_violation_breaks_its_contract(
    project: Path, module: str, line: str, contract: str
) -> None:
    assert _lint(project, contract).returncode == 0  # the copy starts clean
    path = project / "src" / "gapless" / module
    text = path.read_text() if path.exists() else '"""planted by the layering test"""\n'
    path.write_text(text + f"\n{line}  # noqa\n")
    proc = _lint(project, contract)
    assert proc.returncode != 0, proc.stdout
    assert "BROKEN" in proc.stdout
