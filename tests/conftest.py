"""Shared test setup: seeded random generators and hypothesis profiles.

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
