"""Transitional: the corpus fixtures moved to `emodarts_nb.testing` (nbs/api/39_testing.ipynb).

This module only keeps `from emodarts_nb.fixtures import ...` working for notebooks and tests that still
use the old name; import from `emodarts_nb.testing` instead. Remove it once nothing imports it."""
from emodarts_nb.testing import *                                    # noqa: F401,F403
from emodarts_nb.testing import EXPECTED, __all__                    # noqa: F401
