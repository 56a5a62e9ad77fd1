"""Gzip streams of several members: ``util.GzipDecompressor`` and the HTTP client decode all of them.

RFC 1952 §2.2: "A gzip file consists of a series of "members" (compressed data sets)", so a
``Content-Encoding: gzip`` body may hold several members back to back (what ``cat a.gz
b.gz`` makes, and what servers that compress a response piece by piece send). Each check
feeds such a stream, or one spoiled by trailing garbage or cut inside a member, to the
implementation's ``GzipDecompressor`` (a plain call) or to its HTTP client (through the
kit's scripted server, fixture ``h11_server``).

References: RFC 1952 §2.2 (https://www.rfc-editor.org/rfc/rfc1952#section-2.2); RFC 9110
§8.4.1.3; Tornado 6.6.0 release notes, ``tornado.util`` and ``tornado.simple_httpclient``
(https://www.tornadoweb.org/en/stable/releases/v6.6.0.html); Tornado docs,
``util.GzipDecompressor`` (https://www.tornadoweb.org/en/stable/util.html).
"""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.http11]

FIRST = b"the first gzip member of the body; " * 8
SECOND = b"and the second member, appended to it. " * 8
TWO_MEMBERS = gzip.compress(FIRST) + gzip.compress(SECOND)

STREAMS = {
    "two-members": (TWO_MEMBERS, FIRST + SECOND),
    "trailing-garbage": (TWO_MEMBERS + b"this is no gzip member", None),
    "truncated-member": (TWO_MEMBERS[:-12], None),
}


def _decode(decompressor_class: Any, stream: bytes) -> tuple[bytes | None, str | None]:
    """Decode ``stream`` the documented way (``max_length``, ``unconsumed_tail``, ``flush``):
    the output, or the exception (``Type(message)``) a call raised."""
    decompressor = decompressor_class()
    out = b""
    pending = stream
    try:
        for _ in range(10_000):  # a bound, should unconsumed_tail never empty
            out += decompressor.decompress(pending, 4096)
            pending = decompressor.unconsumed_tail
            if not pending:
                break
        out += decompressor.flush()
    except Exception as exc:
        return None, f"{type(exc).__name__}({exc})"
    return out, None


def _shown(data: bytes | None, error: str | None) -> str:
    if error is not None:
        return f"raised {error}"
    assert data is not None
    return f"{len(data)} octets{' (the first member only)' if data == FIRST else ''}"


@check("RFC 1952 §2.2; Tornado 6.6.0 release notes (tornado.util); Tornado docs: util.GzipDecompressor", Level.TORNADO)
@requires("util")
@pytest.mark.parametrize("case", list(STREAMS))
def test_gzip_decompressor_reads_every_member_and_refuses_garbage(impl, case):
    """Tornado 6.6.0 release notes (``tornado.util``): "``GzipDecompressor`` now decompresses
    streams containing multiple gzip members in full; previously everything after the first
    member was ignored. Data after the last member that is not the start of another member is
    now an error, as is a stream that ends partway through a member. ``GzipDecompressor.flush``
    now raises ``zlib.error`` for truncated input". RFC 1952 §2.2: "A gzip file consists of a
    series of "members"". The stream is fed with ``max_length`` and its ``unconsumed_tail``
    passed back, as the docs require."""
    decompressor_class = getattr(impl.part("util"), "GzipDecompressor", None)
    if decompressor_class is None:
        not_provided(f"{impl.name}'s util part has no GzipDecompressor")
    stream, expected = STREAMS[case]
    got, error = _decode(decompressor_class, stream)
    if expected is not None and (error is not None or got != expected):
        raise Violation(
            f"GzipDecompressor did not decode both members of a two-member gzip stream ({len(stream)} octets): "
            "a gzip stream is a series of members, and every one is part of the data.",
            expected=f"{len(expected)} octets, both members",
            observed=_shown(got, error),
        )
    if expected is None and error is None:
        what = "garbage after its last member" if case == "trailing-garbage" else "a member cut short"
        raise Violation(
            f"GzipDecompressor accepted a gzip stream with {what}: the damage is an error, not the end of the data.",
            expected="decompress or flush raises (zlib.error)",
            observed=f"returned {_shown(got, error)}, no error",
        )


@check("RFC 1952 §2.2; RFC 9110 §8.4.1.3; Tornado 6.6.0 release notes (tornado.simple_httpclient)", Level.TORNADO)
@requires("httpclient")
@pytest.mark.parametrize("case", list(STREAMS))
async def test_client_decodes_every_gzip_member_and_refuses_garbage(h11_server, case):
    """Tornado 6.6.0 release notes (``tornado.simple_httpclient``): "Gzipped responses
    containing multiple members are now decompressed correctly, and malformed gzip data is now
    an error"; (``tornado.http1connection``) "Trailing garbage at the end of a body or in
    between members is now an error instead of being silently ignored, as is a body that is
    truncated partway through a member." RFC 1952 §2.2: a gzip file "consists of a series of
    "members"". The kit sends the stream as a ``Content-Encoding: gzip`` body with its exact
    Content-Length."""
    stream, expected = STREAMS[case]

    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")], stream)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/members"))
    if expected is not None and (fetched.code != 200 or fetched.body != expected):
        raise Violation(
            f"the client did not decode both members of a two-member gzip body ({len(stream)} octets): every "
            "member is part of the content.",
            expected=f"a 200 response with {len(expected)} octets, both members",
            observed=fetched.describe() + (" (the first member only)" if fetched.body == FIRST else ""),
            transcript=h11_server.transcripts(),
        )
    if expected is None and fetched.ok:
        what = "garbage after its last member" if case == "trailing-garbage" else "a member cut short"
        raise Violation(
            f"the client returned a response whose gzip body has {what}: malformed gzip data is an error.",
            expected="fetch raises",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )
