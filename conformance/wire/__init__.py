"""The kit's oracles on the wire: h11 for HTTP/1.1, wsproto for WebSocket, on anyio.

Layout: `http` (the kit as HTTP client) and `h11_server` (the kit as HTTP server) share
`_h11` (reading one message with h11); `ws` (the kit as WebSocket client) and `ws_server`
(as WebSocket server) keep only their side of the opening handshake and share
`_ws_peer.WebSocketPeer` (messages, pings, closing) and `_ws_frames` (raw frames). Under
them all: `_net` (deadlines, socket reads and writes), `_transcript` (the bytes
exchanged, carried by every violation) and `_fields` (field lookup). `loadgen` drives
many connections at once for the scale checks. Their unit tests: ``tests/test_wire.py``.
"""

from __future__ import annotations

from ._net import receive_some as receive_some
from ._net import with_deadline as with_deadline
from .http import HTTPClient as HTTPClient
from .http import HTTPConnection as HTTPConnection
from .http import Response as Response
from .http import build_request as build_request
from .ws import Closed as Closed
from .ws import Handshake as Handshake
from .ws import WebSocketClient as WebSocketClient
from .ws import WebSocketConnection as WebSocketConnection
from .ws import frame as frame

__all__ = [
    "Closed",
    "HTTPClient",
    "HTTPConnection",
    "Handshake",
    "Response",
    "WebSocketClient",
    "WebSocketConnection",
    "build_request",
    "frame",
    "receive_some",
    "with_deadline",
]
