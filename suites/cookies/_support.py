"""Shared pieces of the cookies checks: the golden vectors, the module-level signing
functions, and how the kit reads ``Set-Cookie`` headers as a browser would.

Rules:

1. The kit never computes a signature or an XSRF token: it replays values that
   reference Tornado produced (the golden vectors in ``conformance.fixtures.vectors``)
   or that the implementation itself produced.
2. Time is never waited for: expiry is judged through the public ``clock`` keyword of
   ``create_signed_value``/``decode_signed_value``, or with vectors signed long ago.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance import Violation, not_provided
from conformance.fixtures.vectors import load

DAY = 86400


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


def parameters(function: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return set()


def signing_functions(web: Any, *needed: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``web.create_signed_value`` and ``web.decode_signed_value``, each taking the
    keywords ``needed`` (else the check is *not provided*)."""
    __tracebackhide__ = True
    found = []
    for name in ("create_signed_value", "decode_signed_value"):
        function = getattr(web, name, None)
        if function is None:
            not_provided(f"web.{name}")
        found.append(function)
    create, decode = found
    for function, keywords in ((create, _CREATE_KEYWORDS), (decode, _DECODE_KEYWORDS)):
        missing = [k for k in needed if k in keywords and k not in parameters(function)]
        if missing:
            not_provided(f"web.{function.__name__} takes no {', '.join(repr(k) for k in missing)} keyword")
    return create, decode


_CREATE_KEYWORDS = {"version", "clock", "key_version"}
_DECODE_KEYWORDS = {"clock", "max_age_days", "min_version"}


def decode(decode_fn: Callable[..., Any], secret: Any, name: str, value: Any, **kwargs: Any) -> tuple[Any, str]:
    """Call the implementation's decoder; returns (result, "") or (None, why it raised)."""
    try:
        return decode_fn(secret, name, value, **kwargs), ""
    except Exception as exc:
        return None, f"raised {type(exc).__name__}: {exc}"


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
