"""A warm interpreter that runs the kit in forked children: ``python _forkserver.py``.

The per-area proof (tests/test_self_validation.py) runs the kit once per broken
implementation, about five hundred times on CI's primary Python. A fresh interpreter
spends most of a second importing pytest, hypothesis, trio, anyio, Tornado and
cryptography before the first check; this process imports them once and forks a child
per run, which then starts exactly as ``python -m pytest ARGS`` would: its own folder,
environment, argv and standard streams. It starts no thread and no event loop, so the
fork is safe.

Protocol, one JSON object per line: the parent writes ``{"cwd", "argv", "env", "out"}``;
this process answers ``{"pid": N}`` once the child runs, then ``{"returncode": R}`` when it
has ended (a parent that gives up on a child kills that pid; the answer still comes).
"""

from __future__ import annotations

import json
import os
import sys

#: What every run imports. The packages that are pytest plugins (hypothesis, anyio) are
#: imported here too, so pytest cannot rewrite their asserts in the children: the runs that
#: use this server pass ``-W ignore::pytest.PytestAssertRewriteWarning`` (the kit skips
#: rewriting them in any run: conformance/_no_rewrite.py). The kit's own package is never
#: imported here: each child imports it as a fresh run does.
PRELOAD = (
    "pytest",
    "hypothesis",
    "hypothesis.strategies",
    "anyio",
    "anyio.from_thread",
    "trio",
    "h11",
    "wsproto",
    "trustme",
    "tornado.web",
    "tornado.websocket",
    "tornado.httpclient",
    "tornado.simple_httpclient",
    "tornado.httpserver",
    "tornado.queues",
    "tornado.locks",
    "tornado.template",
)


def _child(request: dict) -> None:  # type: ignore[type-arg]
    """In the forked child: become ``python -m pytest ARGV`` in ``cwd``, then exit."""
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        import pytest

        sys.argv = [os.path.join(os.path.dirname(pytest.__file__), "__main__.py"), *request["argv"]]
        sys.path[0] = os.getcwd()  # as `python -m` puts the current folder first

        try:
            code = pytest.console_main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # reported in the child's output, as a crash would be
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main() -> None:
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass  # a package this Python lacks: its children import what they need themselves
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        print(json.dumps({"returncode": code}), flush=True)


if __name__ == "__main__":
    main()
