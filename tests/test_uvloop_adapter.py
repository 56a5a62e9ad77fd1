"""--impl=conformance.adapters.on_uvloop: the installed Tornado on uvloop's event loop."""

from __future__ import annotations

import asyncio

import pytest

from conformance.impl import load
from conformance.run import shipped_expectations


def test_each_loop_is_a_uvloop_loop_and_nothing_global_changes() -> None:
    uvloop = pytest.importorskip("uvloop")
    impl = load("conformance.adapters.on_uvloop")
    before = type(asyncio.get_event_loop_policy())
    loop = impl.new_loop()
    try:
        assert isinstance(loop.asyncio_loop, uvloop.Loop)
    finally:
        impl.close_loop(loop)
    assert type(asyncio.get_event_loop_policy()) is before
    ident = impl.identity()
    assert ident.loop == f"uvloop {uvloop.__version__}" and ident.distribution == "tornado"
    assert shipped_expectations(impl) == shipped_expectations(load("tornado"))  # the same Tornado


def test_the_kit_serves_from_uvloop(kit) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("uvloop")
    run = kit("--impl=conformance.adapters.on_uvloop", "-m", "cookies", "-k", "max_age")
    assert run.returncode == 0, run.output
    assert run.results is not None and run.results["impl"]["loop"].startswith("uvloop ")
