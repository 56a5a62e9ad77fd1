"""The liveness probe: after a wire check timed out, does the implementation answer at all?

A dead implementation (it accepts TCP and never answers) would otherwise cost every
wire check its whole deadline. `Run.after_timeout` calls `probe` when a check that
served the implementation ends with a *timeout* verdict; if the probe gets no answer
either, the run records the implementation as unresponsive (`Unresponsive`), and every
later ``server.serve`` fails its check at once.

Rules:

1. The probe is isolated from the check that timed out: a loop thread of its own, a
   fresh server with one trivial handler (``GET /`` -> 200 "ok"), one request on a fresh
   connection, every step with the run's deadline. Its connection, server and loop are
   closed whatever happens.
2. Only one outcome changes anything: the implementation did not act on the probe's
   request within the deadline (an operation of the exchange timed out). An answer of any
   kind (any status, a malformed response, a closed connection) and a probe that could not
   even start (no ``web`` part, a loop or server that would not start) leave the run as it
   was, so a responsive implementation's verdicts never depend on the probe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import Timeout, Unresponsive
from .impl import Implementation


def probe(impl: Implementation, timeout: float, run_client: Callable[..., Any], *, after: str) -> Unresponsive | None:
    """Probe ``impl`` once; `Unresponsive` (the evidence) when it did not answer, else None.

    ``after`` is the id of the check whose timeout called for the probe.
    """
    from .server import LoopThread, Server, ServerLog

    web: Any = impl.part("web")
    if web is None or not hasattr(web, "RequestHandler"):
        return None

    class LivenessProbe(web.RequestHandler):
        def get(self) -> None:
            self.write("ok")

    try:
        loop = LoopThread(impl, timeout).start()
    except Exception:
        return None  # inconclusive: no loop to serve the probe on
    server = Server(loop, ServerLog())
    try:
        with loop.capture(server.log):  # the probe's log is its own, never a check's
            try:
                target = server.serve([("/", LivenessProbe)])
            except Exception:
                return None  # inconclusive: no server to probe
            try:
                run_client(_exchange, target.host, target.port, timeout)
            except Timeout as exc:
                return Unresponsive(after, timeout, exc.transcript)
            except Exception:
                return None  # an answer of some kind: the implementation is alive
            return None
    finally:
        server.close()
        loop.stop()


async def _exchange(host: str, port: int, timeout: float) -> None:
    from .wire.http import HTTPConnection

    async with await HTTPConnection.open(host, port, timeout) as conn:
        conn.transcript.note(f"the liveness probe: a fresh connection to {host}:{port}")
        await conn.request("GET", "/")


__all__ = ["probe"]
