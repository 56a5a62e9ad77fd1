"""One HTTP/1.1 message read with h11, for the kit's client (responses) and server (requests).

Rules:

1. h11 parses every byte; `read_message` only gathers its events into a `Message`
   (interim 1xx status codes, the head, the body) and stops at the end of the message.
2. Where the bytes come from is the caller's: ``more`` feeds h11 when it needs data and
   says False when the message cannot start (the peer is gone).
3. What h11 refuses is the implementation's `ProtocolViolation`, with the transcript.
4. Field names and values are given as text, names lower-cased as h11 gives them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import h11

from ..errors import ProtocolViolation

Head = Union[h11.Request, h11.Response]


def decode_fields(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """h11's field lines as text (latin-1, the bytes as they were)."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


@dataclass
class Message:
    """The events of one message, gathered."""

    head: Head | None = None
    body: bytearray = field(default_factory=bytearray)
    informational: list[int] = field(default_factory=list)  #: 1xx status codes before the head

    @property
    def fields(self) -> list[tuple[str, str]]:
        assert self.head is not None
        return decode_fields(self.head.headers)


async def read_message(
    conn: h11.Connection,
    more: Callable[[], Awaitable[bool]],
    *,
    what: str,
    transcript: Any,
) -> Message | None:
    """The next message on ``conn``, or None when it ended before one (``more`` said so, or EOF).

    ``what`` names the message in a violation ("the response"); ``conn.trailing_data``
    holds what came after the message (a pipelined next one).
    """
    kind = "response" if conn.our_role is h11.CLIENT else "request"
    message = Message()
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise ProtocolViolation(
                f"h11 rejected {what}: {exc} (h11 suggests status {exc.error_status_hint}). RFC 9112 §2-§7 "
                f"define the message syntax; a {kind} h11 cannot parse is malformed.",
                transcript=transcript,
            ) from None
        if event is h11.NEED_DATA:
            if not await more():
                return None
        elif isinstance(event, h11.InformationalResponse):
            message.informational.append(event.status_code)
        elif isinstance(event, (h11.Request, h11.Response)):
            message.head = event
        elif isinstance(event, h11.Data):
            message.body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert message.head is not None
            return message
        elif isinstance(event, h11.ConnectionClosed):
            return None
