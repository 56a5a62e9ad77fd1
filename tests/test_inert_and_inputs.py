"""The kit installed in a project that does not use it changes nothing there; every input
the kit reads is checked before any check runs (one line, exit 4)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# A project of its own: markers and fixtures named like the kit's, used its own way.
PROJECT_INI = """[pytest]
markers =
    websocket: the project's own websocket tests
    http11: the project's own protocol tests
    scale: the project's slow tests
    cookies: the project's cookie jar tests
"""
PROJECT_OPTIONS = """
import pytest

def pytest_addoption(parser):
    # options named like the kit's short ones, the project's own
    parser.addoption("--check", action="store_true", help="the project's own flag")
    parser.addoption("--level", default="low", help="the project's own level")
    parser.addoption("--verify", default="no", help="the project's own verify")

@pytest.fixture
def options(pytestconfig):
    return pytestconfig.getoption("check"), pytestconfig.getoption("level"), pytestconfig.getoption("verify")
"""
PROJECT_CONFTEST = (
    PROJECT_OPTIONS
    + """

@pytest.fixture
def server():
    return "the project's server"

@pytest.fixture
def http():
    return "the project's http"

@pytest.fixture
def impl():
    return "the project's impl"

@pytest.fixture
def ioloop():
    return "the project's loop"
"""
)
PROJECT_TESTS = """
import sys
import pytest

@pytest.mark.websocket
def test_websocket(server, impl):
    assert server == "the project's server" and impl == "the project's impl"

@pytest.mark.http11
def test_http11(http, ioloop):
    assert (http, ioloop) == ("the project's http", "the project's loop")

@pytest.mark.scale
def test_scale():
    pass

@pytest.mark.cookies
def test_cookies():
    assert "tornado" not in sys.modules

def test_options(options):
    assert options in ((False, "low", "no"), (True, "high", "yes"))
"""


def _error_line(result: pytest.RunResult) -> str:
    lines = [line for line in result.stderr.lines if line.strip()]
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    assert len(lines) == 1, f"a usage error must be one line, got: {lines}"
    return lines[0]


def _project(pytester: pytest.Pytester) -> None:
    pytester.makeini(PROJECT_INI)
    pytester.makeconftest(PROJECT_CONFTEST)
    pytester.makepyfile(test_project=PROJECT_TESTS)


@pytest.mark.primary_python
def test_project_with_the_kits_marker_and_fixture_names_runs_unchanged(pytester: pytest.Pytester) -> None:
    _project(pytester)
    with_kit = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    without_kit = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", "-p", "no:conformance")
    with_kit.assert_outcomes(passed=5)
    without_kit.assert_outcomes(passed=5)
    assert "tornado-conformance summary" not in with_kit.stdout.str()
    # Its own -m selections mean what they meant without the kit (scale is not held back).
    for expression, count in (("scale", 1), ("websocket or cookies", 2), ("not http11", 4)):
        pytester.runpytest_subprocess("-p", "no:cacheprovider", "-m", expression).assert_outcomes(passed=count)


@pytest.mark.primary_python
def test_project_options_named_like_the_kits_short_ones_stay_the_projects(pytester: pytest.Pytester) -> None:
    """The project's ``--check``, ``--level`` and ``--verify`` are its own; the kit's options
    keep their ``--conformance-*`` names, which still run the kit in that project."""
    pytester.makeconftest(PROJECT_OPTIONS)
    pytester.makepyfile(test_project="def test_options(options):\n    assert options == (True, 'high', 'yes')\n")
    own = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--check", "--level=high", "--verify=yes")
    assert own.ret == 0, own.stdout.str() + own.stderr.str()
    own.assert_outcomes(passed=1)
    kit = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-q", "--conformance-impl=tornado", "--conformance-check", "cookies.xsrf*", "--check"
    )
    assert kit.ret == 0, kit.stdout.str() + kit.stderr.str()
    assert "tornado-conformance summary" in kit.stdout.str()
    assert "test_project.py" not in kit.stdout.str()


def test_kit_fixture_name_is_not_injected_into_a_project(pytester: pytest.Pytester) -> None:
    # A typo'd or forgotten fixture is "not found", not a Tornado server started behind the test.
    pytester.makepyfile(test_typo="def test_x(server):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'server' not found*"])


def test_empty_impl_is_a_usage_error(pytester: pytest.Pytester) -> None:
    line = _error_line(pytester.runpytest("--impl="))
    assert line.startswith("ERROR: --impl is empty; name the module under test"), line


def test_ini_key_alone_runs_the_shipped_suites(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nconformance_impl = tornado\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-m", "cookies", "-k", "xsrf_form_html")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["conformance: implementation tornado *", "*tornado-conformance summary*"])


def test_unimportable_ini_key_names_the_ini_key(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nconformance_impl = no_such_module_abc\n")
    line = _error_line(pytester.runpytest())
    assert line.startswith("ERROR: conformance_impl = no_such_module_abc (ini file): cannot import module"), line
    assert "--impl" not in line.split("(default")[0], line


@pytest.mark.parametrize(
    "option",
    ["--expectations=known.toml", "--conformance-json=out.json", "--strict-verdicts", "--client-backend=asyncio"],
)
def test_kit_option_without_checks_is_a_usage_error(pytester: pytest.Pytester, option: str) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    pass\n")
    line = _error_line(pytester.runpytest(option))
    flag = option.split("=", 1)[0]
    assert line.startswith(f"ERROR: {flag} was given, but no conformance check was collected; add --impl=MODULE"), line
    assert not (pytester.path / "out.json").exists()


def test_marker_expression_naming_no_area_is_a_usage_error_naming_the_areas(pytester: pytest.Pytester) -> None:
    line = _error_line(pytester.runpytest("--impl=tornado", "-m", "nosucharea"))
    assert line == (
        "ERROR: -m 'nosucharea': 'nosucharea' is neither an area nor a registered marker; "
        "the areas are http11, websocket, coroutines, lifecycle, cookies, scale"
    ), line


def test_json_results_folder_is_created_before_the_run(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--impl=tornado", "-m", "cookies", "-k", "xsrf_form_html", "--conformance-json=a/b/out.json"
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert json.loads((pytester.path / "a" / "b" / "out.json").read_text())["tests"]


def test_json_results_path_that_cannot_be_written_is_refused_before_any_check(pytester: pytest.Pytester) -> None:
    (pytester.path / "taken").mkdir()
    line = _error_line(pytester.runpytest("--impl=tornado", "--conformance-json=taken"))
    assert line == "ERROR: --conformance-json=taken: name a file to write, not a directory", line
    (pytester.path / "afile").write_text("")
    line = _error_line(pytester.runpytest("--impl=tornado", "--conformance-json=afile/out.json"))
    assert line.startswith("ERROR: --conformance-json=afile/out.json: cannot create the folder 'afile'"), line


def test_ini_key_with_testpaths_runs_the_projects_own_tests(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nconformance_impl = tornado\ntestpaths = mine\n")
    (pytester.path / "mine").mkdir()
    (pytester.path / "mine" / "test_own.py").write_text(
        "from conformance import check\nimport pytest\npytestmark = pytest.mark.coroutines\n\n"
        "@check('Tornado docs: example', 'MUST')\ndef test_own(impl):\n    assert impl.part('gen') is not None\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["conformance: implementation tornado *"])
