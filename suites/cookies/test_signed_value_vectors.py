"""Signed values against golden vectors: reference Tornado's values decode, the same
inputs and clock sign byte-identically, and every forgery of them is rejected.

Reference: Tornado docs, security guide "Cookies and signed cookies"
(https://www.tornadoweb.org/en/stable/guide/security.html#cookies-and-signed-cookies),
RequestHandler.get_signed_cookie / set_signed_cookie
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.get_signed_cookie)
and the Tornado 3.2.1 release notes (https://www.tornadoweb.org/en/stable/releases/v3.2.1.html).

Rules of this module:

1. The vectors in ``conformance.fixtures.vectors`` (``signed_values.json``, made by
   ``make_signed_values.py`` from reference Tornado with fixed secrets and clock) are
   the only source of signatures; the kit never computes one. Direction (c), values
   the implementation signs decoding in reference Tornado, follows from byte identity
   and is asserted against Tornado itself in the kit's ``tests/test_golden_vectors.py``.
2. The checks drive the module-level ``create_signed_value``/``decode_signed_value``
   (what the handler methods are built on) with the public ``clock`` keyword; an
   implementation without it is *not provided*.
3. A rejected value is ``None``, never an exception: the value is client input.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance import Level, Violation, check, requires

from ._support import DAY, Vector, as_bytes, decode, signing_functions, vector, vectors

pytestmark = [pytest.mark.cookies, requires("web", features=("signed_cookies",))]

OTHER_SECRET = "conformance-another-secret-9876543210"


def _mismatches(lines: list[str]) -> str:
    return "\n".join(f"  - {line}" for line in lines)


@check("Tornado docs: RequestHandler.get_signed_cookie", Level.MUST)
def test_reference_signed_values_decode_to_their_values(impl):
    """Tornado docs, RequestHandler.get_signed_cookie: "Returns the given signed cookie
    if it validates, or None. [...] both versions 1 and 2 are accepted by default." Every
    value reference Tornado signed (formats v1 and v2, str and rotated dict secrets,
    empty, unicode and binary payloads) decodes, at the clock it was signed at, to
    exactly its payload: an application moving from Tornado logs nobody out."""
    web = impl.part("web")
    _, decode_fn = signing_functions(web, "clock")
    wrong = []
    for v in vectors():
        got, error = decode(decode_fn, v.secret, v.name, v.signed, clock=lambda v=v: v.clock)
        if error or as_bytes(got) != v.value:
            wrong.append(f"{v.describe()}: {v.signed!r} decoded to {error or repr(got)}")
    if wrong:
        raise Violation(
            f"decode_signed_value(secret, name, value, clock=<signing time>) did not return the payload of "
            f"{len(wrong)} of the {len(vectors())} values reference Tornado signed: both signed-value versions "
            "validate by default, so cookies issued by Tornado stay valid in a Tornado-compatible implementation.",
            observed=f"\n{_mismatches(wrong)}",
        )


@check("Tornado 3.2.1 release notes: signed-value format", Level.TORNADO)
def test_signed_values_are_byte_identical_to_reference_for_the_same_clock(impl):
    """Tornado 3.2.1 release notes: "Introduced cookie version 2" (``version`` argument);
    the v2 format is ``2|<len>:<key version>|<len>:<timestamp>|<len>:<name>|<len>:<base64
    value>|<hex HMAC-SHA256>`` and v1 is ``<base64 value>|<timestamp>|<hex HMAC-SHA1>``.
    With the same secret, name, value, version, key version and clock, the
    implementation signs every golden vector byte for byte as Tornado did, so values it
    issues validate in Tornado."""
    web = impl.part("web")
    create_fn, _ = signing_functions(web, "clock", "version", "key_version")
    wrong = []
    for v in vectors():
        try:
            got = create_fn(
                v.secret, v.name, v.value, version=v.version, clock=lambda v=v: v.clock, key_version=v.key_version
            )
        except Exception as exc:
            wrong.append(f"{v.describe()}: raised {type(exc).__name__}: {exc}")
            continue
        if as_bytes(got) != v.signed.encode("ascii"):
            wrong.append(f"{v.describe()}: signed as {got!r}, Tornado signed {v.signed!r}")
    if wrong:
        raise Violation(
            f"create_signed_value(secret, name, value, version=..., clock=..., key_version=...) differs from reference "
            f"Tornado for {len(wrong)} of {len(vectors())} golden vectors: the formats fix every byte, and a value "
            "signed differently does not validate in Tornado, so users are logged out when an application moves back.",
            observed=f"\n{_mismatches(wrong)}",
        )


@dataclass(frozen=True)
class Forgery:
    """A golden vector presented where it must not validate."""

    vector: str
    why: str
    name: str | None = None  #: the name asked for, if not the vector's
    secret: Any = None  #: the application's secret, if not the vector's
    tamper: Callable[[str], str] | None = None
    decode_kwargs: Callable[[Vector], dict[str, Any]] = lambda v: {"clock": lambda: v.clock}


def _move_tail_to_timestamp(signed: str) -> str:
    value, timestamp, signature = signed.split("|")
    return f"{value[:-4]}|{value[-4:]}{timestamp}|{signature}"


FORGERIES = {
    "another-name": Forgery("v2-ascii", "signed for 'session', asked for as 'sessionid'", name="sessionid"),
    "name-is-a-prefix": Forgery("v2-name-prefix", "signed for 'sessionid', asked for as 'session'", name="session"),
    "another-secret": Forgery("v2-ascii", "signed with another secret", secret=OTHER_SECRET),
    "v1-another-secret": Forgery("v1-ascii", "signed with another secret", secret=OTHER_SECRET),
    "unknown-key-version": Forgery(
        "v2-key7-ascii",
        "signed with key version 7, absent from the application's secret dict",
        secret={0: "conformance-key-zero", 1: "conformance-key-one"},
    ),
    "v1-value-under-key-rotation": Forgery(
        "v1-ascii",
        "presented to an application whose cookie_secret is a dict of key versions (v1 has no key version)",
        secret={0: "conformance-key-zero", 1: "conformance-key-one"},
    ),
    "v1-below-min-version": Forgery(
        "v1-ascii",
        "a v1 value read with min_version=2",
        decode_kwargs=lambda v: {"clock": lambda: v.clock, "min_version": 2},
    ),
    "expired-one-second-past-max-age": Forgery(
        "v2-ascii",
        "read with max_age_days=1 one day and one second after signing",
        decode_kwargs=lambda v: {"clock": lambda: v.clock + DAY + 1, "max_age_days": 1},
    ),
    "v1-expired-one-second-past-max-age": Forgery(
        "v1-ascii",
        "read with max_age_days=1 one day and one second after signing",
        decode_kwargs=lambda v: {"clock": lambda: v.clock + DAY + 1, "max_age_days": 1},
    ),
    "v1-timestamp-32-days-ahead": Forgery(
        "v1-ascii",
        "read 32 days before its timestamp (Tornado rejects v1 timestamps over 31 days in the future)",
        decode_kwargs=lambda v: {"clock": lambda: v.clock - 32 * DAY},
    ),
    "v1-digits-moved-into-timestamp": Forgery(
        "v1-digits-tail",
        "its value's trailing digits '1234' moved into the timestamp (same HMAC input, v1 has no delimiter)",
        tamper=_move_tail_to_timestamp,
    ),
    "v1-zeros-moved-into-timestamp": Forgery(
        "v1-zeros-tail",
        "its value's trailing '0000' moved into the timestamp (same HMAC input, same timestamp number)",
        tamper=_move_tail_to_timestamp,
    ),
}


@check("Tornado docs: guide/security, Cookies and signed cookies", Level.MUST)
@pytest.mark.parametrize("case", list(FORGERIES))
def test_signed_value_is_rejected(impl, case):
    """Tornado docs, security guide: "If the cookie is old or if the signature doesn't
    match, get_signed_cookie will return None just as if the cookie isn't set." A value
    under another name (3.2.1: "the name of one cookie is a prefix of the name of
    another"), another secret, an unknown key version, below ``min_version``, past
    ``max_age_days``, or a v1 value with a timestamp in the future or forged by moving
    digits into the timestamp (which Tornado rejects: "an attacker could transfer
    trailing digits from the payload to the timestamp without altering the signature")
    decodes to None, without raising."""
    forgery = FORGERIES[case]
    v = vector(forgery.vector)
    web = impl.part("web")
    kwargs = forgery.decode_kwargs(v)
    _, decode_fn = signing_functions(web, *kwargs)
    name = forgery.name or v.name
    secret = forgery.secret if forgery.secret is not None else v.secret
    signed = forgery.tamper(v.signed) if forgery.tamper else v.signed
    got, error = decode(decode_fn, secret, name, signed, **kwargs)
    shown = ", ".join(f"{k}={'<clock>' if k == 'clock' else repr(val)}" for k, val in kwargs.items())
    if error or got is not None:
        raise Violation(
            f"decode_signed_value(secret, {name!r}, {signed!r}, {shown}) did not reject {v.describe()} "
            f"{forgery.why}: a signed value that does not validate reads as if the cookie were not set, and it is "
            "client input, so never an exception.",
            expected="None",
            observed=error or f"returned {got!r}",
        )


@check("Tornado docs: RequestHandler.get_signed_cookie (max_age_days)", Level.TORNADO)
@pytest.mark.parametrize("vid", ["v1-ascii", "v2-ascii"], ids=["v1", "v2"])
def test_signed_value_exactly_max_age_days_old_still_validates(impl, vid):
    """Tornado docs, security guide: only a cookie that is *older* than ``max_age_days``
    is rejected; Tornado's decoders reject ``timestamp < now - max_age_days * 86400``, so
    a value exactly ``max_age_days`` old still validates (the next second it does not,
    see test_signed_value_is_rejected)."""
    v = vector(vid)
    _, decode_fn = signing_functions(impl.part("web"), "clock", "max_age_days")
    got, error = decode(decode_fn, v.secret, v.name, v.signed, max_age_days=1, clock=lambda: v.clock + DAY)
    if error or as_bytes(got) != v.value:
        raise Violation(
            f"decode_signed_value(secret, 'session', {v.signed!r}, max_age_days=1) exactly one day after signing "
            "treated the value as expired; Tornado does so only once it is older than max_age_days (an off-by-one "
            "here expires every session a second early).",
            expected=repr(v.value),
            observed=error or f"returned {got!r}",
        )


def _flip(char: str) -> str:
    for alphabet in (string.digits, "abcdef", "ABCDEF", string.ascii_lowercase, string.ascii_uppercase):
        if char in alphabet:
            return alphabet[(alphabet.index(char) + 1) % len(alphabet)]
    return "A" if char != "A" else "B"


@check("Tornado docs: guide/security, Cookies and signed cookies", Level.MUST)
@pytest.mark.parametrize("vid", ["v1-binary", "v2-binary", "v2-key1-binary"], ids=["v1", "v2", "v2-key-version"])
def test_every_single_byte_substitution_of_a_reference_value_is_rejected(impl, vid):
    """Tornado docs, security guide: signed cookies "contain the encoded value of the
    cookie in addition to a timestamp and an HMAC signature [...] if the signature
    doesn't match, get_signed_cookie will return None". Changing any one byte of a
    reference value (version, key version, length prefixes, separators, timestamp,
    name, value, signature) makes it decode to None, without raising."""
    v = vector(vid)
    _, decode_fn = signing_functions(impl.part("web"), "clock")
    accepted = []
    for index, char in enumerate(v.signed):
        tampered = v.signed[:index] + _flip(char) + v.signed[index + 1 :]
        got, error = decode(decode_fn, v.secret, v.name, tampered, clock=lambda: v.clock)
        if error or got is not None:
            accepted.append(f"byte {index} {char!r} -> {_flip(char)!r}: {tampered!r} {error or f'returned {got!r}'}")
    if accepted:
        raise Violation(
            f"{len(accepted)} of the {len(v.signed)} single-byte substitutions of {v.describe()} ({v.signed!r}) did "
            "not decode to None: a value whose signature does not match reads as if the cookie were not set; every "
            "byte is covered by the HMAC.",
            observed=f"\n{_mismatches(accepted[:12])}",
        )


NAMES = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=16)


@check("Tornado docs: guide/security, Cookies and signed cookies", Level.MUST)
@given(
    name=NAMES,
    value=st.binary(max_size=48),
    version=st.sampled_from([1, 2]),
    position=st.floats(min_value=0, max_value=1, exclude_max=True),
    replacement=st.integers(min_value=0x21, max_value=0x7E),
)
def test_tampered_signed_values_are_rejected_property(impl, name, value, version, position, replacement):
    """Tornado docs, security guide: "Signed cookies contain the encoded value of the
    cookie in addition to a timestamp and an HMAC signature. If the cookie is old or if
    the signature doesn't match, get_signed_cookie will return None." For generated
    names, values and versions, the implementation's own signed value round-trips and
    every single-byte tampering of it decodes to None, without raising."""
    create_fn, decode_fn = signing_functions(impl.part("web"), "clock", "version")
    secret, clock = "conformance-property-secret", 1_700_000_000
    signed = as_bytes(create_fn(secret, name, value, version=version, clock=lambda: clock))
    got, error = decode(decode_fn, secret, name, signed, clock=lambda: clock)
    assert not error and as_bytes(got) == value, (
        f"create_signed_value(secret, {name!r}, {value!r}, version={version}) gave {signed!r}, which decoded to "
        f"{error or repr(got)} instead of {value!r}"
    )
    index = int(position * len(signed))
    assume(signed[index] != replacement)
    tampered = signed[:index] + bytes([replacement]) + signed[index + 1 :]
    got, error = decode(decode_fn, secret, name, tampered, clock=lambda: clock)
    assert not error and got is None, (
        f"create_signed_value(secret, {name!r}, {value!r}, version={version}) gave {signed!r}; with byte {index} "
        f"changed to {chr(replacement)!r}, decode_signed_value {error or f'accepted {tampered!r} as {got!r}'}. "
        "Tornado docs (security guide): a tampered signed value reads as None, never as a value or an error."
    )
