"""The examples in the signal/ docstrings are tests too."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["smoothing", "noise", "trend", "schedule", "spectra", "changepoints", "jumps"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"lrdoctor.signal.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"lrdoctor.signal.{name} has no examples"
    assert result.failed == 0
