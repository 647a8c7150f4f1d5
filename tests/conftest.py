"""Suite-wide rules.

In CI (``CI`` set) a missing dependency fails instead of silently skipping a whole module:
``pytest.importorskip`` becomes a plain import there, so a broken install or a simulator
import error is a red test, not a quieter report.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

import pytest


def _strict_importorskip(modname: str, *args: Any, **kwargs: Any) -> ModuleType:
    return importlib.import_module(modname)


if os.environ.get("CI"):
    pytest.importorskip = _strict_importorskip
