"""Hypothesis profiles: 'ci' is derandomized so CI is repeatable; 'dev' explores."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ---------------------------------------------------------------- fault-suite counts
# Each fault test adds the number of cases it checked to FAULT_COUNTS[category];
# the table is printed at the end of the run (nox -s faults).
FAULT_COUNTS: dict[str, int] = {}


def pytest_terminal_summary(terminalreporter):
    if not FAULT_COUNTS:
        return
    tr = terminalreporter
    tr.section("fault suite: cases checked")
    for category, n in sorted(FAULT_COUNTS.items()):
        tr.write_line(f"  {category:<58}{n:>6}")
    tr.write_line(f"  {'total':<58}{sum(FAULT_COUNTS.values()):>6}")
