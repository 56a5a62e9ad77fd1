"""``tornado-conformance [pytest options]``: run the kit's shipped suites with pytest.

It lives outside the ``conformance`` package on purpose: importing that package before
pytest starts would keep pytest from rewriting its assertions (and warn about it).
This module itself is imported before pytest starts, and an installed wheel lists it
among the distribution's modules, which pytest marks for rewriting: the marker
PYTEST_DONT_REWRITE tells pytest to leave it alone instead of warning (an error
wherever warnings are errors).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the shipped suites; every pytest option is accepted and passed on.

    Example::

        tornado-conformance --impl=mypkg.compat -m http11 --conformance-json=out.json
    """
    import pytest

    args = list(sys.argv[1:] if argv is None else argv)
    # Option values (``-m cookies``, ``-W error::Warning``) are not paths: only an argument
    # naming something on disk (a file, a folder, or ``file::test``) counts as one.
    paths = [a for a in args if not a.startswith("-") and os.path.exists(a.split("::", 1)[0])]
    if not paths:
        args += ["--pyargs", "conformance.suites"]
        if not any("anyio" in a for a in args):
            # anyio's pytest plugin (for a project's own async tests) is not used by the
            # shipped checks, and loading it first made pytest rewrite ~30 anyio modules
            # on every run: a third of the start-up (docs/performance.md).
            args += ["-p", "no:anyio"]
    return int(pytest.main(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
