"""Shared pieces of the cookies checks: the golden vectors, the kit's own signer of the
documented signed-value formats, an application that signs and reads values through the
handler API, and how the kit reads ``Set-Cookie`` headers as a browser would.

Rules:

1. The checks reach signed values only through the documented handler API:
   ``RequestHandler.create_signed_value(name, value, version=None)``,
   ``get_signed_cookie(name, value=None, max_age_days=31, min_version=None)`` (or the
   ``*_secure_cookie`` names before Tornado 6.3) and the ``cookie_secret`` and
   ``key_version`` settings. The module-level ``create_signed_value`` and
   ``decode_signed_value`` are not in Tornado's documentation, and nor is their
   ``clock`` keyword; no check uses them.
2. Time is never waited for and never injected: the kit signs values itself (`sign`,
   Tornado's v1 and v2 formats, checked byte for byte against the golden vectors by the
   kit's ``tests/test_golden_vectors.py``) with a timestamp relative to the real time
   (``time.time()``), with margins of hours or days, far beyond any run's duration.
   Values reference Tornado signed in November 2023 (the golden vectors) are read with a
   ``max_age_days`` that covers them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from conformance import Violation, not_provided
from conformance.fixtures.vectors import load

DAY = 86400
#: A ``max_age_days`` far beyond the age of any golden vector (signed 2023-11-14).
CENTURY = 36500


@dataclass(frozen=True)
class Vector:
    """One signed value reference Tornado produced (see fixtures/vectors/make_signed_values.py)."""

    id: str
    version: int
    secret: Any  #: a str, or a dict of key version -> str
    key_version: int | None
    name: str
    value: bytes
    clock: int
    signed: str

    def describe(self) -> str:
        keys = f"secret dict with key_version={self.key_version}" if isinstance(self.secret, dict) else "str secret"
        return f"vector {self.id} (format v{self.version}, {keys}, name {self.name!r}, value {self.value!r})"


def vectors() -> list[Vector]:
    data = load("signed_values.json")
    found = []
    for raw in data["vectors"]:
        secret = raw["secret"]
        if isinstance(secret, dict):
            secret = {int(k): v for k, v in secret.items()}
        found.append(
            Vector(
                raw["id"],
                raw["version"],
                secret,
                raw["key_version"],
                raw["name"],
                bytes.fromhex(raw["value_hex"]),
                raw["clock"],
                raw["signed"],
            )
        )
    return found


def vector(vid: str) -> Vector:
    for found in vectors():
        if found.id == vid:
            return found
    raise LookupError(f"no golden vector {vid!r} in signed_values.json")


def _text(value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def sign(
    secret: Any, name: str, value: bytes, *, timestamp: int, version: int = 2, key_version: int | None = None
) -> str:
    """``value`` signed for cookie ``name`` at ``timestamp``, in Tornado's documented format.

    v1 (Tornado < 3.2.1): ``<base64 value>|<timestamp>|<hex HMAC-SHA1 of name, base64
    value and timestamp>``. v2 (3.2.1 release notes, "Introduced cookie version 2"):
    ``2|<len>:<key version>|<len>:<timestamp>|<len>:<name>|<len>:<base64 value>|`` then
    the hex HMAC-SHA256 of everything before it; with a dict ``secret`` the key of
    ``key_version`` signs. Base64 is the standard alphabet, with padding.
    """
    payload = base64.b64encode(value)
    stamp = str(timestamp).encode("ascii")
    if version == 1:
        if isinstance(secret, dict):
            raise ValueError("a v1 value has no key version, so it cannot be signed with a dict of keys")
        mac = hmac.new(_text(secret), _text(name) + payload + stamp, hashlib.sha1)
        return b"|".join([payload, stamp, mac.hexdigest().encode("ascii")]).decode("ascii")
    if version != 2:
        raise ValueError(f"no signed-value format {version}")

    def field_(content: bytes) -> bytes:
        return str(len(content)).encode("ascii") + b":" + content

    key = secret[key_version] if isinstance(secret, dict) else secret
    head = b"|".join(
        [b"2", field_(str(key_version or 0).encode("ascii")), field_(stamp), field_(_text(name)), field_(payload), b""]
    )
    return (head + hmac.new(_text(key), head, hashlib.sha256).hexdigest().encode("ascii")).decode("ascii")


def now() -> int:
    """The real time as a whole second, for values signed relative to it (rule 2)."""
    return math.floor(time.time())


def timestamp_of(signed: str) -> int | None:
    """The timestamp field of a value in either format, or None if it is in neither."""
    fields = signed.split("|")
    if len(fields) == 3 and fields[1].isdigit():
        return int(fields[1])
    if len(fields) == 6 and fields[0] == "2":
        length, _, stamp = fields[2].partition(":")
        if length.isdigit() and int(length) == len(stamp) and stamp.isdigit():
            return int(stamp)
    return None


def signing_methods(web: Any) -> tuple[str, str]:
    """The (setter, getter) names the implementation's RequestHandler provides: Tornado
    ≥ 6.3 ``set_signed_cookie``/``get_signed_cookie``, older releases the
    ``*_secure_cookie`` pair (else the check is *not provided*)."""
    __tracebackhide__ = True
    handler = web.RequestHandler
    for setter, getter in (("set_signed_cookie", "get_signed_cookie"), ("set_secure_cookie", "get_secure_cookie")):
        if hasattr(handler, setter) and hasattr(handler, getter):
            return setter, getter
    not_provided(
        "RequestHandler has neither set_signed_cookie/get_signed_cookie nor set_secure_cookie/get_secure_cookie"
    )
    raise AssertionError  # unreachable


@dataclass(frozen=True)
class Read:
    """One ``get_signed_cookie(name, value=value, **options)`` call made by the signer."""

    name: str
    value: str
    options: dict[str, Any] = field(default_factory=dict)  #: max_age_days, min_version

    def call(self, getter: str) -> str:
        shown = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"{getter}({self.name!r}, value={self.value!r}{shown})"


@dataclass(frozen=True)
class Signer:
    """An application of the implementation with one ``cookie_secret`` (and ``key_version``)
    that signs with ``RequestHandler.create_signed_value`` and reads with
    ``get_signed_cookie(name, value=...)``, the documented way to use signed values
    outside a cookie."""

    listening: Any
    getter: str
    secret: Any

    async def sign(self, http: Any, name: str, value: bytes, version: int | None = None) -> str:
        """What ``self.create_signed_value(name, value, version=version)`` returned."""
        __tracebackhide__ = True
        body = json.dumps({"name": name, "hex": value.hex(), "version": version}).encode()
        response = await http.request(self.listening, "POST", "/sign", body=body)
        if response.status != 200:
            shown = "" if version is None else f", version={version}"
            raise Violation(
                f"a handler calling self.create_signed_value({name!r}, {value!r}{shown}) failed: the handler "
                "method signs any byte string (Tornado docs: RequestHandler.create_signed_value).",
                expected="200",
                observed=f"{response.describe()} with body {response.body[:300]!r}",
            )
        return str(json.loads(response.body)["signed"])

    async def read(self, http: Any, reads: list[Read]) -> list[tuple[bytes | None, str]]:
        """For each read, (what get_signed_cookie returned, "") or (None, what it raised)."""
        __tracebackhide__ = True
        body = json.dumps([[r.name, r.value, r.options] for r in reads]).encode()
        response = await http.request(self.listening, "POST", "/read", body=body)
        if response.status != 200:
            raise Violation(
                f"the handler making {len(reads)} calls to {self.getter}(name, value=...) failed as a whole "
                "(it reports what each call returned or raised).",
                expected="200",
                observed=f"{response.describe()} with body {response.body[:300]!r}",
            )
        return [(None if hexed is None else bytes.fromhex(hexed), error) for hexed, error in json.loads(response.body)]


def serve_signer(impl: Any, server: Any, secret: Any, key_version: int | None = None) -> Signer:
    """A `Signer` on the implementation (``POST /sign``, ``POST /read``)."""
    web = impl.part("web")
    _, getter = signing_methods(web)

    class SignHandler(web.RequestHandler):
        def post(self) -> None:
            asked = json.loads(self.request.body)
            signed = self.create_signed_value(asked["name"], bytes.fromhex(asked["hex"]), version=asked["version"])
            self.write({"signed": signed.decode("ascii") if isinstance(signed, bytes) else signed})

    class ReadHandler(web.RequestHandler):
        def post(self) -> None:
            answers = []
            for name, value, options in json.loads(self.request.body):
                try:
                    got = getattr(self, getter)(name, value, **options)
                except Exception as exc:
                    answers.append([None, f"raised {type(exc).__name__}: {exc}"])
                    continue
                answers.append([None if got is None else _text(got).hex(), ""])
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps(answers))

    settings: dict[str, Any] = {"cookie_secret": secret}
    if key_version is not None:
        settings["key_version"] = key_version
    return Signer(server.serve([("/sign", SignHandler), ("/read", ReadHandler)], settings), getter, secret)


def as_bytes(value: Any) -> Any:
    """Tornado returns bytes; judge the value, not the type."""
    return value.encode("utf-8") if isinstance(value, str) else value


@dataclass
class SetCookie:
    """One ``Set-Cookie`` header, split as RFC 6265 §5.2 does."""

    header: str
    name: str
    value: str
    attributes: dict[str, str]  #: lower-cased attribute name -> value ("" for flags)


def set_cookies(response: Any) -> list[SetCookie]:
    found = []
    for header in response.header_list("set-cookie"):
        pair, *attrs = header.split(";")
        name, _, value = pair.partition("=")
        attributes = {}
        for attr in attrs:
            key, _, val = attr.partition("=")
            attributes[key.strip().lower()] = val.strip()
        found.append(SetCookie(header, name.strip(), value.strip(), attributes))
    return found


def set_cookie(response: Any, name: str, what: str) -> SetCookie:
    """The ``Set-Cookie`` for ``name`` in ``response``; its absence fails the check."""
    __tracebackhide__ = True
    for cookie in set_cookies(response):
        if cookie.name == name:
            return cookie
    raise Violation(
        f"{what}, but the response carries no Set-Cookie for {name!r}.",
        observed=f"{response.describe()}, Set-Cookie headers {response.header_list('set-cookie')!r}",
    )


def unquoted(cookie: str) -> str:
    return cookie[1:-1] if len(cookie) >= 2 and cookie[0] == cookie[-1] == '"' else cookie
