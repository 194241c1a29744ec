"""Hypothesis profiles for the property tests of every hostile-input parser.

`make test` runs the bounded `ci` profile (fast: tens of examples per property); `make fuzz`
sets SITROOM_HYPOTHESIS_PROFILE=fuzz for a long run. A failure prints the reproducing blob.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("SITROOM_FUZZ_EXAMPLES", "5000")), deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("SITROOM_HYPOTHESIS_PROFILE", "ci"))
