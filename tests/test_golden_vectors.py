"""The golden signed-value vectors against reference Tornado, in both directions.

The cookies checks judge an implementation black-box with these vectors: (a) it decodes
them, (b) it signs them byte-identically for the same clock. This file closes the loop
with Tornado itself (which the checks may not import): the checked-in JSON is exactly
what the generator produces, Tornado decodes every vector, and values signed through an
implementation's API decode in Tornado (direction (c)), which is what lets an
application move between Tornado and a port without logging anyone out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tornado.web

import conformance.fixtures.vectors as vectors_pkg
from conformance.fixtures.vectors import load
from conformance.fixtures.vectors.make_signed_values import make
from conformance.impl import load as load_impl
from conformance.suites.cookies._support import sign, timestamp_of

VECTORS = load("signed_values.json")["vectors"]


def _secret(raw: Any) -> Any:
    return {int(k): v for k, v in raw.items()} if isinstance(raw, dict) else raw


def test_checked_in_vectors_are_what_the_generator_makes_with_this_tornado() -> None:
    made = json.loads(json.dumps(make()))
    assert made["vectors"] == VECTORS, (
        "signed_values.json differs from make_signed_values.py's output with the installed Tornado; "
        "regenerate it with: python fixtures/vectors/make_signed_values.py > fixtures/vectors/signed_values.json"
    )


def test_vectors_ship_inside_the_package() -> None:
    assert (Path(vectors_pkg.__file__).parent / "signed_values.json").is_file()


@pytest.mark.parametrize("v", VECTORS, ids=[v["id"] for v in VECTORS])
def test_reference_tornado_decodes_every_vector(v: dict[str, Any]) -> None:
    got = tornado.web.decode_signed_value(_secret(v["secret"]), v["name"], v["signed"], clock=lambda: v["clock"])
    assert got == bytes.fromhex(v["value_hex"])
    assert tornado.web.get_signature_key_version(v["signed"]) == (v["key_version"] or 0 if v["version"] == 2 else None)


@pytest.mark.parametrize("v", VECTORS, ids=[v["id"] for v in VECTORS])
def test_the_kits_signer_reproduces_every_vector(v: dict[str, Any]) -> None:
    # The checks sign values themselves (dated relative to the real time, no clock hook):
    # their signer must be Tornado's format to the byte.
    value = bytes.fromhex(v["value_hex"])
    signed = sign(
        _secret(v["secret"]), v["name"], value, timestamp=v["clock"], version=v["version"], key_version=v["key_version"]
    )
    assert signed == v["signed"]
    assert timestamp_of(signed) == v["clock"]


def test_values_the_kit_signs_at_any_time_decode_in_reference_tornado() -> None:
    for version in (1, 2):
        signed = sign("s3cret", "session", b"\xfb\xff ada", timestamp=1_234_567_890, version=version)
        decoded = tornado.web.decode_signed_value("s3cret", "session", signed, clock=lambda: 1_234_567_890 + 10)
        assert decoded == b"\xfb\xff ada", (version, signed)


def _not_interoperable(impl_name: str) -> list[str]:
    """Vectors whose value, signed through ``impl_name``'s create_signed_value with the
    vector's inputs, reference Tornado does not decode to the vector's payload."""
    web = load_impl(impl_name).part("web")
    wrong = []
    for v in VECTORS:
        secret, value = _secret(v["secret"]), bytes.fromhex(v["value_hex"])
        signed = web.create_signed_value(
            secret, v["name"], value, version=v["version"], clock=lambda v=v: v["clock"], key_version=v["key_version"]
        )
        decoded = tornado.web.decode_signed_value(secret, v["name"], signed, clock=lambda v=v: v["clock"])
        if decoded != value:
            wrong.append(f"{v['id']}: {signed!r} -> {decoded!r}")
    return wrong


@pytest.mark.parametrize("impl_name", ["tornado", "conformance.fixtures.impls.adapter_example"])
def test_values_signed_through_the_implementation_decode_in_reference_tornado(impl_name: str) -> None:
    assert _not_interoperable(impl_name) == []


def test_interoperability_test_catches_a_port_with_another_base64_alphabet() -> None:
    # The broken implementation signs with URL-safe base64: byte identity (check b)
    # fails, and so does direction (c), as asserted here against Tornado itself.
    wrong = _not_interoperable("conformance.fixtures.broken.cookies_value_urlsafe_base64")
    assert any("binary" in line for line in wrong), wrong
