"""Tornado's handler API spelled over cyclone's: the ``web`` and ``websocket`` parts.

Imported by `conformance.adapters.cyclone` only once Twisted's asyncio reactor is
installed (``cyclone.web`` imports the reactor).

Rule: a shim re-spells a call, it never changes what cyclone does. A check's handler
subclasses `RequestHandler` (or `WebSocketHandler`) below, and its hooks are adapted
where the two APIs name or encode the same thing differently:

* ``prepare``, ``get``, ``post``...: Tornado's may be ``async def`` (they return an
  awaitable); cyclone's are asynchronous when they return a Deferred.
* ``write_error``: Tornado passes ``exc_info=(type, value, traceback)``; cyclone passes
  ``exception=``, an exception or a Twisted Failure.
* ``on_connection_close``: Tornado calls ``on_connection_close()``; cyclone calls
  ``on_connection_close(result)`` as a callback of ``notifyFinish()``.
* WebSocket hooks: Tornado's ``open``, ``on_message``, ``on_close`` are cyclone's
  ``connectionMade``, ``messageReceived``, ``connectionLost``; Tornado's
  ``write_message(message, binary=False)`` is cyclone's ``sendMessage(message)`` (text).

What cyclone has no API for (a WebSocket close frame, ping, binary messages) raises
`NotImplementedError` with that reason, so the check that needs it fails saying so.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

import cyclone.web
import cyclone.websocket
from twisted.internet import defer
from twisted.python import failure

_SHIM = "__conformance_shim__"


def _shim(method: Callable[..., Any], wrapper: Callable[..., Any]) -> Callable[..., Any]:
    functools.update_wrapper(wrapper, method)
    setattr(wrapper, _SHIM, True)
    return wrapper


async def _awaiting(awaitable: Any) -> Any:
    return await awaitable


def as_deferred(method: Callable[..., Any]) -> Callable[..., Any]:
    """A hook that returns an awaitable (``async def``) returns a Deferred instead.

    ``defer.ensureDeferred`` is Twisted's own bridge: the coroutine starts at once and
    runs to its first suspension, as Tornado starts a coroutine hook; what it awaits is
    awaited the Twisted way (a Deferred).
    """

    def hook(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        if isinstance(result, defer.Deferred) or not inspect.isawaitable(result):
            return result
        return defer.ensureDeferred(result if inspect.iscoroutine(result) else _awaiting(result))

    return _shim(method, hook)


def _exc_info(error: Any) -> tuple[Any, Any, Any]:
    if isinstance(error, failure.Failure):
        return (error.type, error.value, error.getTracebackObject())
    return (type(error), error, getattr(error, "__traceback__", None))


def with_exc_info(method: Callable[..., Any]) -> Callable[..., Any]:
    """``write_error`` gets Tornado's ``exc_info`` keyword where cyclone passes ``exception``."""

    def write_error(self: Any, status_code: int, **kwargs: Any) -> Any:
        if "exception" in kwargs and "exc_info" not in kwargs:
            kwargs["exc_info"] = _exc_info(kwargs.pop("exception"))
        return method(self, status_code, **kwargs)

    return _shim(method, write_error)


def without_arguments(method: Callable[..., Any]) -> Callable[..., Any]:
    """``on_connection_close()`` as Tornado declares it, called whenever cyclone calls it.

    cyclone calls ``on_connection_close`` as a callback of the connection's
    ``notifyFinish()`` Deferred, with that Deferred's current result as an argument
    (``None`` when it fires on a finished request, the reason when the connection was
    lost, or what an earlier callback returned). Only the signature is translated: when
    cyclone calls the hook, and for which requests, is cyclone's and judged as such.
    """

    def on_connection_close(self: Any, *args: Any) -> Any:
        return method(self)

    return _shim(method, on_connection_close)


def _adapt(cls: type, translations: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]]) -> None:
    for name, translate in translations.items():
        method = cls.__dict__.get(name)
        if callable(method) and not getattr(method, _SHIM, False):
            setattr(cls, name, translate(method))


class RequestHandler(cyclone.web.RequestHandler):
    """cyclone's RequestHandler; a subclass's hooks are adapted as the table above says."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hooks: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {"prepare": as_deferred}
        hooks.update({method.lower(): as_deferred for method in cls.SUPPORTED_METHODS})
        hooks["write_error"] = with_exc_info
        hooks["on_connection_close"] = without_arguments
        _adapt(cls, hooks)


class WebSocketHandler(cyclone.websocket.WebSocketHandler):
    """Tornado's WebSocketHandler hooks and methods over cyclone's."""

    #: cyclone does not tell the handler what close frame (if any) the peer sent.
    close_code: int | None = None
    close_reason: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _adapt(cls, {"open": as_deferred, "on_message": as_deferred})

    # cyclone's hooks, calling Tornado's
    def connectionMade(self, *args: Any, **kwargs: Any) -> Any:
        return self.open(*args, **kwargs)

    def messageReceived(self, message: Any) -> Any:
        return self.on_message(message)

    def connectionLost(self, reason: Any) -> None:
        self.on_close()

    # Tornado's hooks (what its base class does when a subclass does not override them)
    def open(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def on_message(self, message: Any) -> Any:
        raise NotImplementedError

    def on_close(self) -> None:
        return None

    # Tornado's methods
    def write_message(self, message: Any, binary: bool = False) -> None:
        if binary:
            raise NotImplementedError("cyclone.websocket has no API to send a binary message (sendMessage sends text)")
        self.sendMessage(message)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        raise NotImplementedError("cyclone.websocket has no API to send a close frame")

    def ping(self, data: Any = b"") -> None:
        raise NotImplementedError("cyclone.websocket has no API to send a ping")


def _part(module: types.ModuleType, **overrides: Any) -> types.ModuleType:
    """A copy of ``module``'s namespace with the shims in place of cyclone's classes."""
    part = types.ModuleType(module.__name__, module.__doc__)
    part.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    part.__dict__.update(overrides)
    return part


web = _part(cyclone.web, RequestHandler=RequestHandler)
websocket = _part(cyclone.websocket, WebSocketHandler=WebSocketHandler)
