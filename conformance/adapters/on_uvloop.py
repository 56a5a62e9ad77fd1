"""Tornado on uvloop: ``--impl=conformance.adapters.on_uvloop``.

The installed Tornado, unchanged, on a uvloop event loop (libuv) instead of asyncio's own:
each loop the kit starts for the implementation is ``uvloop.new_event_loop()``, and Tornado's
IOLoop wraps it as it wraps any asyncio loop. Nothing global is changed (no event-loop
policy is installed), so the kit's own clients keep their loops::

    pip install uvloop            # or: pip install 'tornado-conformance[uvloop]'
    tornado-conformance --impl=conformance.adapters.on_uvloop

The identity line reads ``loop uvloop <version>``. The implementation is still the
``tornado`` distribution, judged against Tornado's shipped expectations: a check that
passes on asyncio and fails on uvloop is a finding about the loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from ..errors import ImplementationError
from ..identity import Identity
from ..impl import TornadoLike


class TornadoOnUvloop(TornadoLike):
    """The installed Tornado, each of its loops a uvloop loop."""

    #: Tornado's own code, unchanged: its shipped expectations apply.
    expectations_family = "tornado"

    def __init__(self) -> None:
        import tornado

        try:
            import uvloop
        except ImportError as exc:
            raise ImplementationError(
                f"conformance.adapters.on_uvloop needs uvloop ({exc}); install it with: pip install uvloop"
            ) from None
        super().__init__(tornado)
        self.name = "tornado+uvloop"
        self._uvloop = uvloop

    def _release(self) -> tuple[int, ...] | None:
        from .._version import version_tuple

        return version_tuple(self.version)

    def _new_asyncio_loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop = self._uvloop.new_event_loop()
        return loop

    def identity(self) -> Identity:
        return replace(super().identity(), loop=f"uvloop {self._uvloop.__version__}")


conformance_adapter = TornadoOnUvloop
