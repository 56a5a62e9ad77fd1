"""Real third-party implementations, ready to judge.

Layout:

* ``cyclone``      ``--impl=conformance.adapters.cyclone``: cyclone (Tornado's API on
                   Twisted) through the ``conformance_adapter`` hook
* ``salt_fork``    ``python -m conformance.adapters.salt_fork extract DEST``: Salt's
                   vendored Tornado 4.5.3 fork out of the ``salt`` sdist, for
                   ``--impl=salt.ext.tornado`` with DEST on ``PYTHONPATH``
* ``python -m conformance.adapters record [--path DIR] KIT-ARGS``: run the kit and
  succeed when the run completed, whatever the checks found (see `record`)

Rule: nothing here imports an implementation at import time; each module says how to
install what it needs when it is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence

#: pytest's exit codes that mean "the run completed": every check passed (0), or some
#: failed (1). Interrupted (2), internal error (3), usage error (4) and no checks
#: collected (5) mean the results are missing or incomplete.
COMPLETED = (0, 1)


#: The kit's options whose value is a file: made absolute, since the run happens elsewhere.
PATH_OPTIONS = ("--conformance-json", "--expectations", "--junitxml", "--junit-xml")


def record(kit_args: Sequence[str], path: Sequence[str] = ()) -> int:
    """Run ``tornado-conformance KIT-ARGS`` in a child process; 0 when the run completed.

    A real implementation has findings, so its run exits 1; an environment that records
    them (``--conformance-json``) must still tell a completed run from a broken one. This
    returns 0 for pytest's exit codes 0 and 1 and the exit code itself otherwise. The
    folder of the ``--conformance-json`` file is created, and a run that exits 0 or 1
    without writing that file counts as incomplete (3).

    The run happens in a fresh temporary directory: started inside a project (a tox env
    lives in the project's ``.tox``), pytest would take that project's configuration
    (its ``filterwarnings``, ``addopts``) for the kit's. File options (`PATH_OPTIONS`)
    are made absolute first.

    Args:
        kit_args: the kit's command line, e.g. ``["--impl=salt.ext.tornado", "-q"]``.
        path: folders put in front of ``PYTHONPATH`` for the run only (so they never
            shadow packages for the steps that prepared them).

    Returns:
        0 when the run completed, else pytest's exit code (2, 3, 4 or 5; 3 also when the
        results file is missing).

    Example::

        record(["--impl=salt.ext.tornado", "--conformance-json=salt.json"], path=["fork"])
    """
    args = _absolute_paths(kit_args)
    json_path = _option_value(args, "--conformance-json")
    if json_path is not None:
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        if os.path.exists(json_path):
            os.remove(json_path)  # a file left by an earlier run must not pass for this one's
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = os.pathsep.join([*(os.path.abspath(p) for p in path), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    # The kit runs in a child: importing the conformance package in the process that
    # starts pytest would keep pytest from rewriting its assertions.
    with tempfile.TemporaryDirectory(prefix="tornado-conformance-") as scratch:
        code = subprocess.call([sys.executable, "-m", "tornado_conformance_cli", *args], env=env, cwd=scratch)
    if code in COMPLETED and json_path is not None and not os.path.exists(json_path):
        print(f"tornado-conformance: the run wrote no results to {json_path}", file=sys.stderr)
        return 3
    if code == 1:
        print("tornado-conformance: the run completed with failed checks (findings); exit code 1 recorded as success")
    elif code not in COMPLETED:
        print(f"tornado-conformance: the run did not complete (pytest exit code {code})", file=sys.stderr)
    return 0 if code in COMPLETED else code


def _absolute_paths(kit_args: Sequence[str]) -> list[str]:
    args = list(kit_args)
    for i, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if name not in PATH_OPTIONS:
            continue
        if equals and value != "none":
            args[i] = f"{name}={os.path.abspath(value)}"
        elif not equals and i + 1 < len(args) and args[i + 1] != "none":
            args[i + 1] = os.path.abspath(args[i + 1])
    return args


def _option_value(args: Sequence[str], option: str) -> str | None:
    for i, arg in enumerate(args):
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
        if arg == option and i + 1 < len(args):
            return args[i + 1]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m conformance.adapters record [--path DIR]... KIT-ARGS``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "record":
        print(
            "usage: python -m conformance.adapters record [--path DIR]... [tornado-conformance options]\n"
            "runs the kit and exits 0 when the run completed (all checks passed, or some failed)",
            file=sys.stderr,
        )
        return 2
    args = args[1:]
    path: list[str] = []
    while args and (args[0] == "--path" or args[0].startswith("--path=")):
        if args[0] == "--path":
            if len(args) < 2:
                print("--path needs a folder, e.g. --path .tox/salt/salt-fork", file=sys.stderr)
                return 2
            path.append(args[1])
            args = args[2:]
        else:
            path.append(args[0].split("=", 1)[1])
            args = args[1:]
    return record(args, path)
