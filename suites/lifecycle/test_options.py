"""tornado.options: an `OptionParser`'s option names and its config files.

Reference: Tornado docs, ``tornado.options`` (https://www.tornadoweb.org/en/stable/options.html):
``OptionParser.define`` and ``OptionParser.parse_config_file``, and the release notes of 4.5.3,
5.1.0 and 6.3.0 (tornado.options).

Rules of this module: every check builds its own ``OptionParser()``, never the module's global
``options`` (whose definitions would outlive the check and collide with the application's), and
a config file lives in a temporary directory removed when the check ends.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("options")]


@contextmanager
def _config_file(text: str) -> Iterator[str]:
    """The path of a config file holding ``text``; the file and its directory go afterwards."""
    with tempfile.TemporaryDirectory(prefix="conformance-options-") as directory:
        path = os.path.join(directory, "server.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        yield path


def _outcome(call: Any) -> tuple[Any, BaseException | None]:
    try:
        return call(), None
    except Exception as exc:
        return None, exc


@check(
    "Tornado 4.5.3 and 5.0.0 release notes (tornado.options); Tornado docs: tornado.options (versionchanged 4.3), "
    "OptionParser.define (TORNADO)",
    Level.TORNADO,
)
@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("foo-bar", "foo_bar", id="hyphen-then-underscore"),
        pytest.param("foo_bar", "foo-bar", id="underscore-then-hyphen"),
    ],
)
def test_defining_a_name_again_with_hyphens_for_underscores_raises(impl, first, second):
    """tornado.options: "Dashes and underscores are fully interchangeable in option names;
    options can be defined, set, and read with any mix of the two", and OptionParser.define:
    "Command line option names must be unique". The 4.5.3 notes: a duplicate option name is
    now detected even when one spelling uses hyphens where the other uses underscores. So a
    second ``define`` of the same name spelled the other way, in either order, raises
    ``tornado.options.Error`` on that parser, and the first definition stays."""
    options = impl.part("options")
    parser = options.OptionParser()
    parser.define(first, default="first", type=str, help="the first definition")
    _, raised = _outcome(lambda: parser.define(second, default="second", type=str, help="the same name again"))
    value, read_error = _outcome(lambda: parser.foo_bar)
    observed = f"define({second!r}) {'raised ' + type(raised).__name__ if raised else 'returned'}; foo_bar = " + (
        repr(value) if read_error is None else f"unreadable ({type(read_error).__name__})"
    )
    if not isinstance(raised, options.Error) or value != "first":
        raise Violation(
            f"define({second!r}) after define({first!r}) was not refused as a duplicate, although both "
            "spellings name one option.",
            expected=f"define({second!r}) raised Error; foo_bar = 'first'",
            observed=observed,
        )


@check(
    "Tornado 5.1.0 release notes (tornado.options); Tornado docs: OptionParser.parse_config_file "
    "(versionchanged 5.1) (TORNADO)",
    Level.TORNADO,
)
def test_config_file_strings_are_parsed_like_command_line_values(impl):
    """OptionParser.parse_config_file: "Options may either be the specified type for the option
    or strings (in which case they will be parsed the same way as in `.parse_command_line`)";
    versionchanged 5.1: "Added the ability to set options via strings in config files." A config
    file that sets an ``int`` option to the string ``'5'`` gives the option the int 5."""
    options = impl.part("options")
    parser = options.OptionParser()
    parser.define("port", default=80, type=int, help="port to listen on")
    with _config_file("port = '5'\n") as path:
        _, raised = _outcome(lambda: parser.parse_config_file(path, final=False))
    value, _ = _outcome(lambda: parser.port)
    if raised is not None or type(value) is not int or value != 5:
        raise Violation(
            "a string in a config file was not parsed as the option's type, as the command line would parse it.",
            expected="parse_config_file returned; port = 5 (int)",
            observed=(f"parse_config_file raised {type(raised).__name__}: {raised}; " if raised else "")
            + f"port = {value!r} ({type(value).__name__})",
        )


@check(
    "Tornado 6.3.0 release notes (tornado.options); Tornado docs: OptionParser.parse_config_file (TORNADO)",
    Level.TORNADO,
)
def test_config_file_comma_separated_string_sets_a_multiple_option(impl):
    """OptionParser.parse_config_file's example: "Both lists and comma-separated strings are
    allowed for multiple=True." The 6.3.0 notes: a comma-separated string is now split for a
    ``multiple=True`` option in a config file, as on the command line. A ``str`` option with
    ``multiple=True`` set to ``'cache1:11011,cache2:11011'`` holds the two items as a list."""
    options = impl.part("options")
    parser = options.OptionParser()
    parser.define("memcache_hosts", type=str, multiple=True, help="cache servers")
    with _config_file("memcache_hosts = 'cache1:11011,cache2:11011'\n") as path:
        _, raised = _outcome(lambda: parser.parse_config_file(path, final=False))
    value, _ = _outcome(lambda: parser.memcache_hosts)
    expected = ["cache1:11011", "cache2:11011"]
    if raised is not None or value != expected:
        raise Violation(
            "a comma-separated string in a config file did not set the multiple=True option to its items.",
            expected=f"parse_config_file returned; memcache_hosts = {expected!r}",
            observed=(f"parse_config_file raised {type(raised).__name__}: {raised}; " if raised else "")
            + f"memcache_hosts = {value!r}",
        )
