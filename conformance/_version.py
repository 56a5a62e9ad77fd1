"""Release numbers of implementations, compared as tuples of integers.

Rule: a version compares by its leading numbers only, without trailing zeros (``6.6.0b1`` is
``(6, 6)``, as ``6.6`` is; so compare with literals written that way: ``< (6, 5)``, never
``(6, 5, 0)``), and a version without a leading number (``git-main``) has none, which callers
treat as newest.
Imports nothing of the kit's, so `conformance.impl` and `conformance.expectations` can both use it.
"""

from __future__ import annotations

import re


def version_tuple(version: str) -> tuple[int, ...] | None:
    """``"6.5.3"`` -> ``(6, 5, 3)``; ``"6.6.0b1"`` -> ``(6, 6)``; None when it has no leading number.

    Trailing zeros are dropped, as version comparison ignores them: Tornado 6.5 reports
    ``version = "6.5"``, and an expectation bounded by ``since = "6.5.0"`` must apply to it
    (as a tuple, (6, 5) sorted before (6, 5, 0))."""
    numbers = []
    for part in version.split("."):
        match = re.match(r"\d+", part)
        if match is None:
            break
        numbers.append(int(match.group()))
        if match.end() != len(part):
            break
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers) or None
