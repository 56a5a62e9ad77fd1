"""tornado.locale: choosing a handler's locale from ``Accept-Language``, and ``Locale.format_date``.

Reference: Tornado docs, ``tornado.locale`` (https://www.tornadoweb.org/en/stable/locale.html)
and ``RequestHandler.get_browser_locale`` (https://www.tornadoweb.org/en/stable/web.html),
RFC 9110 §12.4.2 (quality values) and §12.5.4 (Accept-Language); the release notes of 6.2.0
(tornado.web) and 6.6.0 (tornado.locale).

Rule of this module: the loaded translations are process-wide state (``load_translations``
replaces them all), so a check that loads some does it through `_loaded_locales`, which
refuses to run over translations loaded by someone else (the public API cannot read them back
to restore them) and, whatever the check's verdict, loads an empty directory afterwards: the
state of a process that never loaded any, with the same default locale.
"""

from __future__ import annotations

import datetime
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("locale")]

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@contextmanager
def _loaded_locales(locale: Any, *codes: str) -> Iterator[None]:
    """Make ``codes`` supported locales (an empty CSV translation file each) meanwhile."""
    before = set(locale.get_supported_locales())
    if len(before) > 1:
        pytest.skip(
            f"translations for {sorted(before)} are already loaded in this process; loading others would "
            "replace them for good"
        )
    try:
        with tempfile.TemporaryDirectory(prefix="conformance-locale-") as directory:
            for code in codes:
                with open(os.path.join(directory, f"{code}.csv"), "w", encoding="utf-8"):
                    pass
            locale.load_translations(directory)
        yield
    finally:
        with tempfile.TemporaryDirectory(prefix="conformance-locale-none-") as empty:
            locale.load_translations(empty)
        after = set(locale.get_supported_locales())
        assert after == before, f"the supported locales were not restored: {sorted(after)} instead of {sorted(before)}"


@check(
    "Tornado 6.2.0 release notes (tornado.web); Tornado docs: RequestHandler.get_browser_locale; "
    "RFC 9110 §12.4.2, §12.5.4 (TORNADO)",
    Level.TORNADO,
)
@requires("web", "httpserver")
@pytest.mark.parametrize(
    ("accept_language", "chosen"),
    [
        # weight = OWS ";" OWS "q=" qvalue: the space after ';' is part of the grammar.
        pytest.param("fr; q=0.5, de; q=0.8", "de", id="space-before-the-weight"),
        # a weight of 0 means "not acceptable": no listed language is, so the default answers.
        pytest.param("fr;q=0", "es", id="zero-weight-not-acceptable"),
        pytest.param("fr;q=abc, de;q=0.5", "de", id="weight-not-a-number"),
    ],
)
async def test_browser_locale_follows_the_accept_language_weights(impl, server, http, accept_language, chosen):
    """RequestHandler.get_browser_locale: "Determines the user's locale from
    ``Accept-Language`` header." RFC 9110 §12.4.2: "weight = OWS ";" OWS "q=" qvalue", and
    "a value of 0 means 'not acceptable'". The 6.2.0 notes: parsing of Accept-Language is more
    robust. With the locales fr, de and es loaded, the most preferred loaded language with a
    weight above 0 is chosen (a weight after a space is read, a weight that is not a number
    counts as 0), and none left means ``default``; the request is answered, not failed."""
    web: Any = impl.part("web")
    locale = impl.part("locale")

    class Handler(web.RequestHandler):
        def get(self) -> None:
            self.write(self.get_browser_locale(default="es").code)

    with _loaded_locales(locale, "fr", "de", "es"):
        srv = server.serve([("/", Handler)])
        response = await http.request(srv, "GET", "/", [("Accept-Language", accept_language)])
    observed = response.describe() if response.status != 200 else response.body.decode("latin-1")
    if observed != chosen:
        raise Violation(
            f"get_browser_locale(default='es') for 'Accept-Language: {accept_language}' did not choose the "
            "most preferred acceptable locale.",
            expected=chosen,
            observed=observed,
        )


@check(
    "Tornado 6.6.0 release notes (tornado.locale); Tornado docs: Locale.format_date (TORNADO)",
    Level.TORNADO,
)
@pytest.mark.parametrize(
    "ahead",
    [
        pytest.param(datetime.timedelta(days=1, seconds=30), id="one-day-and-30-seconds"),
        pytest.param(datetime.timedelta(days=2, seconds=30), id="two-days-and-30-seconds"),
        pytest.param(datetime.timedelta(days=7, seconds=30), id="seven-days-and-30-seconds"),
    ],
)
def test_format_date_writes_future_instants_in_full(impl, ahead):
    """Locale.format_date: "This method is primarily intended for dates in the past. For dates
    in the future, we fall back to full format." Only an instant less than a minute ahead is
    taken as now in relative mode (clock skew). The 6.6.0 notes: future times close to a whole
    number of days ahead are handled. An instant a whole number of days and 30 seconds ahead
    is written as the full date and time ("July 10, 1980 at 3:04 pm" in English, UTC), never
    as a time ago."""
    locale = impl.part("locale")
    english = locale.get("en_US")
    # A timestamp works on every release (aware datetimes only since 6.4); the code runs well
    # within 30 seconds, so format_date's own "now" is still more than a minute before it.
    when = int(time.time() + ahead.total_seconds())
    utc = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    hour = f"{utc.hour % 12 or 12}:{utc.minute:02d} {'pm' if utc.hour >= 12 else 'am'}"
    expected = f"{_MONTHS[utc.month - 1]} {utc.day}, {utc.year} at {hour}"
    answer = english.format_date(when)
    if answer != expected:
        raise Violation(
            f"format_date for an instant {ahead} ahead did not write the full date.",
            expected=repr(expected),
            observed=repr(answer),
        )
