"""The client side, a coroutine ``streaming_callback``: each call is awaited before the next chunk.

The kit's scripted server (fixture ``h11_server``) answers with a chunked body of three
chunks; the implementation's client is given an ``async def`` streaming callback that records
its start, waits on a 20 ms ``gen.sleep`` (an input delay, never judged), and records its end. The
check judges the order of those records and of the fetch's completion.

References: Tornado docs, HTTPRequest (``streaming_callback``)
(https://www.tornadoweb.org/en/stable/httpclient.html#tornado.httpclient.HTTPRequest);
Tornado 6.6.0 release notes, ``tornado.simple_httpclient``
(https://www.tornadoweb.org/en/stable/releases/v6.6.0.html).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.http11, requires("httpclient", "gen")]

# Chunks under 10 octets: their hex sizes read the same in decimal (the check is not about framing).
CHUNKS = [b"first|", b"second|", b"third"]
PAUSE = 0.02  #: the callback's input delay (a timer, not a judged duration)


@check(
    "Tornado 6.6.0 release notes (tornado.simple_httpclient); Tornado docs: HTTPRequest (streaming_callback)",
    Level.TORNADO,
)
async def test_client_awaits_a_coroutine_streaming_callback_chunk_by_chunk(h11_server):
    """Tornado 6.6.0 release notes: "The ``streaming_callback`` argument to
    ``SimpleAsyncHTTPClient.fetch`` may now be a coroutine." Tornado docs, HTTPRequest:
    "``streaming_callback`` -- If set, ``streaming_callback`` will be run with each chunk of
    data as it is received". A coroutine callback is awaited: the call for one chunk ends
    before the next call starts, every chunk is delivered in order, and the fetch completes
    after the last call has ended."""
    httpclient = h11_server.impl.part("httpclient")
    if not hasattr(httpclient, "AsyncHTTPClient"):
        not_provided(f"{h11_server.impl.name}'s httpclient part has no AsyncHTTPClient")

    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain")], chunks=CHUNKS)

    origin = await h11_server.listen(respond)
    gen = h11_server.impl.part("gen")

    async def impl_side() -> tuple[list[str], bytes, str]:
        trace: list[str] = []
        received: list[bytes] = []

        async def on_chunk(chunk: bytes) -> None:
            trace.append(f"start {len(received) + 1}")
            received.append(chunk)
            await gen.sleep(PAUSE)
            trace.append(f"end {len(received)}")

        client = httpclient.AsyncHTTPClient(force_instance=True)
        try:
            response = await client.fetch(origin.url("/stream"), streaming_callback=on_chunk, raise_error=False)
            outcome = f"status {response.code}"
        except Exception as exc:
            outcome = f"raised {type(exc).__name__}({exc})"
        finally:
            client.close()
        trace.append("fetch done")
        return trace, b"".join(received), outcome

    trace, received, outcome = await h11_server.kit.run(impl_side, "fetch with a coroutine streaming_callback")
    whole = b"".join(CHUNKS)
    # The client may deliver the body in pieces other than the kit's chunks: judge the pairing.
    calls = sum(1 for t in trace if t.startswith("start"))
    expected = [x for n in range(1, calls + 1) for x in (f"start {n}", f"end {n}")] + ["fetch done"]
    if received != whole or trace != expected or calls == 0 or outcome != "status 200":
        raise Violation(
            "the coroutine streaming_callback was not awaited chunk by chunk before the fetch completed.",
            expected=f"start 1, end 1, start 2, end 2, ... then 'fetch done'; the body {whole!r}; status 200",
            observed=f"{', '.join(trace)}; body {received!r}; {outcome}",
            transcript=h11_server.transcripts(),
        )
