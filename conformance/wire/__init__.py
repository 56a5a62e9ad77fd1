"""The kit's oracle clients: h11 for HTTP/1.1, wsproto for WebSocket, on anyio."""

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
