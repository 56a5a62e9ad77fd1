"""``tornado-conformance [pytest options]``: run the shipped suites (default --impl=tornado)."""

from __future__ import annotations

import sys

import pytest


def main(argv: list[str] | None = None) -> int:
    """Run the kit's suites with pytest; every pytest option is accepted and passed on.

    Example::

        tornado-conformance --impl=mypkg.compat -m http11 --conformance-json=out.json
    """
    from .plugin import suites_dir

    args = list(sys.argv[1:] if argv is None else argv)
    paths = [a for a in args if not a.startswith("-") and "=" not in a]
    if not paths:
        args.append(str(suites_dir()))
    return int(pytest.main(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
