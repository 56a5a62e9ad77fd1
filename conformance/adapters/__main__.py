"""``python -m conformance.adapters record ...`` (see `conformance.adapters.record`)."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
