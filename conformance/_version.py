"""Release numbers of implementations, compared as tuples of integers.

Rule: a version compares by its leading numbers only (``6.6.0b1`` is ``(6, 6, 0)``), and a
version without a leading number (``git-main``) has none, which callers treat as newest.
Imports nothing of the kit's, so `conformance.impl` and `conformance.expectations` can both use it.
"""

from __future__ import annotations

import re


def version_tuple(version: str) -> tuple[int, ...] | None:
    """``"6.5.3"`` -> ``(6, 5, 3)``; ``"6.6.0b1"`` -> ``(6, 6, 0)``; None when it has no leading number."""
    numbers = []
    for part in version.split("."):
        match = re.match(r"\d+", part)
        if match is None:
            break
        numbers.append(int(match.group()))
        if match.end() != len(part):
            break
    return tuple(numbers) or None
