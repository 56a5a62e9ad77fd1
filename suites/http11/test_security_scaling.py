"""The quadratic-parsing advisories of Tornado's security corpus, judged as scaling:
parsing an input 8 times larger may cost about 8 times more, not 64 times.

Reference: Tornado's release notes (https://www.tornadoweb.org/en/stable/releases.html):
6.4.2 (CVE-2024-52804, cookie values with backslash escapes), 6.5.3 (CVE-2025-67725,
repeated header lines; CVE-2025-67726, semicolons in a quoted Content-Disposition
parameter) and 6.6.0 (line folding, removed "to avoid DoS risk"). Each input is valid
(obs-fold is obsolete but may be answered 400), so these checks judge cost, not the
response.

Rules of this module:

1. Cost is the CPU time of the implementation's loop thread (``time.thread_time()``
   read on that thread before and after one request), never wall-clock time: other
   processes on the machine slow the clock down, not the thread's CPU count.
2. Only the ratio of two costs is judged (n2 = 8 x n1), against a bound of twice
   linear (16). Quadratic parsing measures 30 or more at these sizes (smaller inputs
   would be cheaper, but at a quarter of them the pre-fix parsers measure under 20).
   Each size is measured several times, alternately, and the minimum over every
   measurement of the check kept (interference only ever adds time): the small input
   three times per attempt, since a slow measurement of it would lower the ratio and
   hide a quadratic parser, the large one (most of the check's time) once per attempt,
   since a slow measurement of it can only raise the ratio. A ratio over the bound is
   measured again (another attempt) before the check fails, so one scheduling hiccup
   cannot fail it; the garbage collector is paused while measuring.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from conformance import Level, Timeout, Violation, check, requires

from ._apps import raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

COOKIE_BACKSLASHES = "Tornado 6.4.2 release notes (CVE-2024-52804, GHSA-8w49-h785-mj3c)"
REPEATED_HEADERS = "Tornado 6.5.3 release notes (CVE-2025-67725, GHSA-c98p-7wgm-6p64)"
DISPOSITION_SEMICOLONS = "Tornado 6.5.3 release notes (CVE-2025-67726, GHSA-jhmp-mqwm-3gq8)"
OBS_FOLD = "Tornado 6.6.0 release notes (line folding removed to avoid DoS risk)"

#: n2 / n1 for every case, and the bound on the cost ratio: twice linear.
GROWTH = 8
MAX_RATIO = 2 * GROWTH
#: A ratio this far over the bound is a different complexity class, not noise: no retry.
DECISIVE_RATIO = 1.5 * MAX_RATIO
#: The measurements of one attempt, alternating. The small input is cheap and measured
#: more often: its minimum is the denominator, which one slow measurement would inflate,
#: shrinking the ratio (and hiding a quadratic parser). The large input costs most of the
#: check's time and is measured once: a slow measurement of it can only raise the ratio,
#: which is then measured again (up to ATTEMPTS times) before the check fails.
SCHEDULE = (1, 2, 1, 1)
ATTEMPTS = 3

BOUNDARY = "scaling"
PARTS = 8  # parts per multipart body: the cost of one part header is small next to a request's


@dataclass(frozen=True)
class Case:
    advisory: str
    what: str  #: the input, in words, for the failure message
    build: Callable[[int], bytes]
    n1: int
    server_kwargs: dict[str, Any]
    method: str = "GET"
    #: the RFC lets a server refuse the input: a closed connection is then the answer whose
    #: cost is measured (its form is another check's business)
    refusable: bool = False


def _cookie_request(n: int) -> bytes:
    # A quoted value of n escaped backslashes: the pre-6.4.2 unquoting rescanned the rest
    # of the value for every escape.
    return raw_request("GET", "/", 'Cookie: a="b=' + "\\\\" * n + '"')


def _repeated_header_request(n: int) -> bytes:
    # n lines of one field: before 6.5.3 each line was appended to the combined value by
    # copying it, so the cost grew with the square of the number of lines.
    return raw_request("GET", "/", ("X-Repeated: " + "v" * 400 + "\r\n") * n)


def _disposition_request(n: int) -> bytes:
    # Every part's Content-Disposition holds a quoted parameter of n semicolons: before
    # 6.5.3 each semicolon in the quotes restarted a count of the quotes before it.
    parts = b"".join(
        b'--%s\r\nContent-Disposition: form-data; x="%s"; name="a%d"\r\n\r\nv\r\n' % (BOUNDARY.encode(), b";" * n, i)
        for i in range(PARTS)
    )
    body = parts + b"--%s--\r\n" % BOUNDARY.encode()
    return raw_request(
        "POST", "/", f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}", body
    )


def _folded_request(n: int) -> bytes:
    # One field continued on n obs-fold lines: before 6.6.0 each continuation was appended
    # to the field's value by copying the value so far. 6.6.0 refuses folding (400).
    return raw_request("GET", "/", "X-Folded: v\r\n" + (" " + "v" * 160 + "\r\n") * n)


CASES = [
    pytest.param(
        Case(COOKIE_BACKSLASHES, "a quoted cookie value of n escaped backslashes", _cookie_request, 1000, {}),
        marks=check(f"{COOKIE_BACKSLASHES}; Tornado docs: HTTPServerRequest.cookies", Level.TORNADO),
        id="cookie-backslashes",
    ),
    pytest.param(
        # The default 64 KiB head limit hides most of the cost (the advisory says as much),
        # so this server accepts heads of up to 4 MiB (the largest input is 3.3 MB).
        Case(
            REPEATED_HEADERS,
            "n repeated 'X-Repeated' lines",
            _repeated_header_request,
            1000,
            {"max_header_size": 4 << 20},
        ),
        marks=check(f"{REPEATED_HEADERS}; RFC 9110 §5.3", Level.TORNADO),
        id="repeated-header-lines",
    ),
    pytest.param(
        Case(
            DISPOSITION_SEMICOLONS,
            f"{PARTS} multipart parts whose Content-Disposition quotes n semicolons",
            _disposition_request,
            1250,
            {},
            "POST",
        ),
        marks=check(f"{DISPOSITION_SEMICOLONS}; RFC 7578 §4.2", Level.TORNADO),
        id="content-disposition-semicolons",
    ),
    pytest.param(
        # As with repeated lines, the default 64 KiB head limit hides the cost: heads of up
        # to 4 MiB here (the largest input is 2.6 MB). Refusing obs-fold with 400 passes.
        # A refusal by closing is measured too: its form is judged by
        # http11.obs_fold_is_rejected_or_replaced_by_a_space.
        Case(
            OBS_FOLD,
            "one field folded over n continuation lines",
            _folded_request,
            2000,
            {"max_header_size": 4 << 20},
            refusable=True,
        ),
        marks=check(f"{OBS_FOLD}; RFC 9112 §5.2", Level.TORNADO),
        id="obs-fold-lines",
    ),
]


def _scaling_app(impl):
    """Reads what each case's input feeds: the cookies, the repeated field's combined
    value, the multipart arguments; answers how much it saw."""
    web = impl.part("web")

    class Consume(web.RequestHandler):
        def get(self):
            cookie = self.get_cookie("a") or ""
            repeated = self.request.headers.get("X-Repeated") or ""
            self.write(f"{len(cookie)} {len(repeated)}")

        def post(self):
            self.write(str(len(self.request.body_arguments)))

    return [("/", Consume)]


async def _loop_cpu(server, http, srv, request: bytes, method: str) -> tuple[float, Any]:
    """CPU seconds the implementation's loop thread spent on one request, and its answer."""
    before = server.call(time.thread_time)
    async with await http.connect(srv) as conn:
        await conn.send(request)
        answer = await conn.response_or_close(method)
    after = server.call(time.thread_time)
    return after - before, answer


def _too_slow_to_answer(case: Case, n1: int, n2: int, small: float, deadline: float, exc: Timeout) -> None:
    """The input at size n2 was not answered within the deadline, though the one at n1
    took ``small`` seconds of the loop's CPU: the growth is at least deadline / small (a
    wall-clock bound, since the loop is still busy), which is the finding when it exceeds
    the check's bound; a loop that never answers at all stays a timeout."""
    __tracebackhide__ = True
    at_least = deadline / max(small, 1e-6)
    if at_least <= MAX_RATIO:
        raise exc
    raise Violation(
        f"{case.what}: the implementation's loop thread spent {small * 1000:.2f} ms of CPU at n={n1}, and did not "
        f"answer at n={n2} within {deadline:g}s: a ratio of at least {at_least:.0f} for an input {GROWTH} times "
        f"larger (bound {MAX_RATIO}). That is quadratic parsing, which one request can use to block the event "
        f"loop: {case.advisory}.",
        transcript=exc.transcript,
    )


@pytest.mark.parametrize("case", CASES)
async def test_parsing_time_grows_linearly(impl, server, http, conformance_timeout, case: Case):
    """Tornado's 6.4.2 and 6.5.3 release notes fix parsers that "had quadratic performance
    which allowed for a denial-of-service attack in which the server would spend excessive
    CPU time ... and block the event loop": cookie values with backslash escapes
    (CVE-2024-52804), repeated header lines (CVE-2025-67725) and semicolons inside a quoted
    Content-Disposition parameter (CVE-2025-67726). Tornado 6.6.0 removed obs-fold "to
    avoid DoS risk" (its value was rebuilt for each continuation line; RFC 9112 §5.2 lets
    a server refuse it with 400). The loop thread's CPU time for the
    input at size 8n may be at most 16 times that at size n (linear code measures about 8;
    the pre-fix parsers measure 30 or more). Every request is answered."""
    srv = server.serve(_scaling_app(impl), **case.server_kwargs)
    method = case.method
    n1, n2 = case.n1, case.n1 * GROWTH
    requests = {n1: case.build(n1), n2: case.build(n2)}
    costs: dict[int, list[float]] = {n1: [], n2: []}
    attempts = 0
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        # warm-up: the first request is slower
        smallest, _ = await _loop_cpu(server, http, srv, requests[n1], method)
        while attempts < ATTEMPTS:
            attempts += 1
            for which in SCHEDULE:
                n = n1 if which == 1 else n2
                try:
                    cost, answer = await _loop_cpu(server, http, srv, requests[n], method)
                except Timeout as exc:
                    if n == n1:
                        raise
                    _too_slow_to_answer(case, n1, n2, smallest, conformance_timeout, exc)
                if n == n1:
                    smallest = min(smallest, cost)
                assert (answer is not None and answer.status < 500) or (answer is None and case.refusable), (
                    f"{case.what} (n={n}) got {answer.describe() if answer else 'no response'}; the input is "
                    f"valid and must be answered ({case.advisory})."
                )
                costs[n].append(cost)
            # The minima over every attempt so far: the best estimate of either cost.
            ratio = min(costs[n2]) / max(min(costs[n1]), 1e-6)
            if ratio <= MAX_RATIO or (attempts > 1 and ratio > DECISIVE_RATIO):
                break
    finally:
        if was_enabled:
            gc.enable()
    best1, best2 = min(costs[n1]), min(costs[n2])
    assert ratio <= MAX_RATIO, (
        f"{case.what}: the implementation's loop thread spent {best1 * 1000:.2f} ms of CPU at n={n1} and "
        f"{best2 * 1000:.2f} ms at n={n2}, a ratio of {ratio:.1f} for an input {GROWTH} times larger (bound "
        f"{MAX_RATIO}; minimum of {len(costs[n1])} and {len(costs[n2])} measurements, over {attempts} "
        f"attempt(s)). That is quadratic parsing, which one request can use to block the event "
        f"loop: {case.advisory}."
    )
