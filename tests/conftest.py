"""Shared test setup: seeded random generators, hypothesis profiles and the browser tests' fixtures.

Profiles: ``default`` (no deadline: sympy's first calls are slow) and ``ci`` (also derandomized,
so CI runs are reproducible, and printing the blob to replay a failure). ``ci`` is loaded when the
``CI`` environment variable is set; ``HYPOTHESIS_PROFILE`` picks one explicitly.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("default", deadline=None)
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default"))


@pytest.fixture(autouse=True)
def _seed_random_generators() -> None:
    """Every test starts from the same global random state (numpy and ``random``)."""
    np.random.seed(0)
    random.seed(0)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator for one test."""
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def jax_float64():
    """jax (the test-only autodiff reference) in float64 for one test module, restored afterwards."""
    import jax

    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


# -- the browser tests' server and Chromium (see browser_support), one of each per test module ------
@pytest.fixture(scope="module")
def server(request):
    """``streamlit run app.py`` on a free local port; its log is named after the test module."""
    from browser_support import streamlit_server

    with streamlit_server(request.module.__name__.removeprefix("test_")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright."""
    from browser_support import chromium

    with chromium() as b:
        yield b
