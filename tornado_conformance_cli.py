"""``tornado-conformance [pytest options]``: run the kit's shipped suites with pytest.

It lives outside the ``conformance`` package on purpose: importing that package before
pytest starts would keep pytest from rewriting its assertions (and warn about it).
This module itself is imported before pytest starts, and an installed wheel lists it
among the distribution's modules, which pytest marks for rewriting: the marker
PYTEST_DONT_REWRITE tells pytest to leave it alone instead of warning (an error
wherever warnings are errors).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the shipped suites; every pytest option is accepted and passed on.

    Example::

        tornado-conformance --impl=mypkg.compat -m http11 --conformance-json=out.json

    Which arguments are test paths is pytest's own parsing to decide, not this command's:
    it passes ``--conformance-suites``, and the plugin runs the shipped suites whenever
    pytest found no test path among the arguments (an option's value such as ``out.json``
    or ``cookies`` is never one, whether or not a file of that name exists).
    ``--version`` prints the kit's version and its oracles'.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if "--version" in args or "-V" in args:
        print(versions())
        return 0
    import pytest

    args.append("--conformance-suites")
    if not any("anyio" in a for a in args):
        # anyio's pytest plugin (for a project's own async tests) is not used by the
        # shipped checks, and loading it first made pytest rewrite ~30 anyio modules
        # on every run: a third of the start-up (docs/performance.md).
        args += ["-p", "no:anyio"]
    return int(pytest.main(args))


def run() -> None:
    """The ``tornado-conformance`` command: :func:`main`, then a quick exit."""
    _exit(main())


def _exit(status: int) -> None:
    """End the process once the run is over (`conformance._exit.quick_exit`)."""
    from conformance._exit import quick_exit

    quick_exit(status)


def versions() -> str:
    """``tornado-conformance X.Y (pytest …; oracles h11 …, wsproto …, …)``."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    oracles = ", ".join(f"{name} {of(name)}" for name in ("h11", "wsproto", "hypothesis", "anyio", "trio"))
    return f"tornado-conformance {of('tornado-conformance')} (pytest {of('pytest')}; oracles {oracles})"


if __name__ == "__main__":  # pragma: no cover
    run()
