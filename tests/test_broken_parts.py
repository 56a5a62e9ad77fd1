"""The building blocks of the broken implementations (``fixtures/broken/_parts``): the ids
they declare are the ids pytest gives the checks, the parts are Tornado with every switch
off, and Tornado's private names are reached from one file only."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
import tornado.web

import conformance.fixtures.broken as broken_pkg
from conformance.fixtures.broken._parts.ids import UnknownCase, cases, param_ids_of
from conformance.fixtures.broken._parts.signed_value import SignedValues
from conformance.suites.cookies import test_signed_value_vectors
from conformance.suites.websocket import test_utf8


def test_cases_name_every_case_by_its_pytest_id(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--impl=tornado", "--collect-only", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    collected: dict[tuple[str, str], list[str]] = defaultdict(list)
    for line in proc.stdout.splitlines():
        path, sep, rest = line.partition("::")
        if not sep:
            continue
        name, _, param = rest.partition("[")
        collected[(path, name)].append(param[:-1])
    assert len(collected) > 100, proc.stdout[-3000:] + proc.stderr[-3000:]
    wrong = []
    for (path, name), params in collected.items():
        module = importlib.import_module("conformance.suites." + path.removesuffix(".py").replace("/", "."))
        ours = param_ids_of(getattr(module, name)) or [""]
        if sorted(ours) != sorted(params):
            wrong.append(f"{path}::{name}: pytest {params}, cases() {ours}")
    assert not wrong, "\n".join(wrong)


def test_cases_refuses_a_case_the_check_does_not_have() -> None:
    check = test_utf8.test_invalid_utf8_text_fails_the_connection
    assert cases(check, "overlong") == {"websocket.invalid_utf8_text_fails_the_connection[overlong]"}
    assert len(cases(check)) == len(param_ids_of(check) or ())
    with pytest.raises(UnknownCase):
        cases(check, "over-long")
    with pytest.raises(UnknownCase):
        cases(test_signed_value_vectors.test_reference_signed_values_decode_to_their_values, "v1")


def test_signed_values_without_a_flaw_sign_and_verify_as_tornado() -> None:
    ours, clock = SignedValues(), lambda: 1_700_000_000.0
    secrets: list[object] = ["a-secret", {0: "old-secret", 1: "new-secret"}]
    for secret in secrets:
        for version in (1, 2):
            if isinstance(secret, dict) and version == 1:
                continue
            key_version = 1 if isinstance(secret, dict) else None
            for value in (b"", b"plain", b"\xfb\xff\x00>?\xff\xfe\n|", "unicode \u00e9"):
                signed = tornado.web.create_signed_value(secret, "n", value, version, clock, key_version)
                assert ours.create(secret, "n", value, version, clock, key_version) == signed
                variants = [signed, signed[:-1] + b"0", signed.replace(b"|", b"||", 1), b"2|" + signed, signed[1:]]
                for candidate in variants:
                    for name, max_age, min_version in (("n", 31, None), ("m", 31, None), ("n", 0, None), ("n", 31, 2)):
                        args = (secret, name, candidate, max_age, clock, min_version)
                        assert _outcome(ours.decode, *args) == _outcome(tornado.web.decode_signed_value, *args)


def _outcome(decode: Callable[..., bytes | None], *args: object) -> object:
    try:
        return decode(*args)
    except Exception as exc:  # Tornado refuses some combinations by raising; so must the part
        return type(exc)


#: A private name of a Tornado module: ``tornado.web._create_signature_v2``, ``from tornado.httputil import _x``.
_PRIVATE = re.compile(r"\btornado(?:\.[a-z0-9_]+)*\._\w|from tornado[\w.]* import [^\n]*\b_\w")


def test_only_the_private_part_names_tornado_private_names() -> None:
    root = Path(broken_pkg.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*.py"))
        if path.name != "private.py" and _PRIVATE.search(path.read_text())
    ]
    assert not offenders, f"reach Tornado's private names through _parts/private.py: {offenders}"
