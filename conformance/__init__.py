"""tornado-conformance: does an implementation behave like Tornado and the RFCs?

General layout (data flows top to bottom; docs/architecture.md has the picture):

* ``plugin``       pytest hooks only: options, markers, collection, verdicts, summary
* ``_fixtures``    the fixtures checks use (impl, server, ioloop, http, ws, h11_server, run_client)
* ``run``          `Run`: settings, implementation, expectations, results, the loop thread
* ``report``       per-check records, the per-area summary, the JSON file
* ``server``       the implementation's loop in its own thread; servers per check; log capture
* ``impl``         ``--impl=MODULE`` -> `Implementation` (an abstract base class)
* ``expectations`` known deviations as TOML data
* ``wire``         oracle clients on anyio: h11 for HTTP/1.1, wsproto for WebSocket
* ``errors``, ``outcomes``  `Violation` and its kinds; the outcome and verdict words
* ``suites``       the checks, one folder per area (shipped inside this package)
* ``fixtures``     golden vectors, reference apps, deliberately broken implementations

This module re-exports what check authors and adapter authors use, and imports nothing
heavy, so that the pytest plugin stays cheap for projects that merely have the kit installed.
"""

from __future__ import annotations

# ruff: noqa: E402  (the rewriting skip must run before the imports below)
from ._no_rewrite import skip_assertion_rewriting

skip_assertion_rewriting()  # first, so the rest of the kit is imported as plain Python

from ._fuzz import hypothesis_property as hypothesis_property
from ._fuzz import wire_property as wire_property
from ._meta import AREAS as AREAS
from ._meta import Level as Level
from ._meta import check as check
from ._meta import not_provided as not_provided
from ._meta import requires as requires
from .errors import ImplementationError as ImplementationError
from .errors import NonStrict as NonStrict
from .errors import ProtocolViolation as ProtocolViolation
from .errors import Timeout as Timeout
from .errors import Violation as Violation
from .impl import Implementation as Implementation
from .impl import Listening as Listening
from .impl import TornadoLike as TornadoLike
from .trace import Trace as Trace

__version__ = "0.1.0"

__all__ = [
    "AREAS",
    "Implementation",
    "ImplementationError",
    "Level",
    "Listening",
    "NonStrict",
    "ProtocolViolation",
    "Timeout",
    "TornadoLike",
    "Trace",
    "Violation",
    "check",
    "hypothesis_property",
    "not_provided",
    "requires",
    "wire_property",
]
