"""The plugin as a user meets it: options, usage errors, the --impl contract, results."""

from __future__ import annotations

import json
import textwrap

import pytest

from conformance.outcomes import Outcome

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

GOOD_CHECK = """
import pytest
from conformance import check, Level
pytestmark = pytest.mark.coroutines

@check("Tornado docs: example", Level.MUST)
def test_passes(impl):
    assert impl.part("gen") is not None

@check("Tornado docs: example", Level.SHOULD)
def test_fails(impl):
    assert False, "the implementation did X; Y was expected"
"""


def _error_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.stderr.lines if line.strip()]


def _assert_usage_error(result: pytest.RunResult, pattern: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    lines = _error_lines(result)
    assert len(lines) == 1, f"a usage error must be one line, got: {lines}"
    result.stderr.fnmatch_lines([pattern])


def test_unimportable_impl_is_a_usage_error_of_one_line(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--impl=no_such_module")
    _assert_usage_error(
        result,
        "ERROR: --impl=no_such_module: cannot import module 'no_such_module' (ModuleNotFoundError: "
        "No module named 'no_such_module'); install it or put it on PYTHONPATH*",
    )


def test_impl_that_fails_on_import_names_the_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(brokenimport="raise RuntimeError('boom at import')")
    pytester.syspathinsert()
    result = pytester.runpytest("--impl=brokenimport")
    _assert_usage_error(
        result, "ERROR: --impl=brokenimport: cannot import module 'brokenimport' (RuntimeError: boom at import)*"
    )


def test_impl_that_is_not_a_module_name_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--impl=not a module")
    _assert_usage_error(result, "ERROR: --impl='not a module' is not a module name; pass a dotted module path*")


def test_bad_adapter_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(badadapter="conformance_adapter = 42")
    pytester.syspathinsert()
    result = pytester.runpytest("--impl=badadapter")
    _assert_usage_error(
        result, "ERROR: --impl=badadapter: badadapter.conformance_adapter must be a conformance.Implementation*got int"
    )


@pytest.mark.parametrize(
    "module",
    [
        "from conformance import Implementation\nclass Half(Implementation):\n    def part(self, name): return None\nconformance_adapter = Half",
        "from conformance import Implementation\nclass Half(Implementation):\n    def part(self, name): return None\ndef conformance_adapter(): return Half()",
    ],
    ids=["class", "factory"],
)
def test_half_written_adapter_is_refused_when_loaded_naming_the_missing_methods(
    pytester: pytest.Pytester, module: str
) -> None:
    pytester.makepyfile(halfadapter=module)
    pytester.syspathinsert()
    result = pytester.runpytest("--impl=halfadapter")
    _assert_usage_error(
        result,
        "ERROR: --impl=halfadapter: the adapter Half does not implement call_soon_threadsafe(), listen(), new_loop(), "
        "run_loop(), stop_loop(), which every conformance.Implementation must provide*",
    )


@pytest.mark.parametrize(
    ("option", "pattern"),
    [
        ("--client-backend=curio", "ERROR: --client-backend=curio is not a backend; use one of: trio, asyncio"),
        (
            "--conformance-timeout=-1",
            "ERROR: --conformance-timeout=-1: expected a positive number of seconds, got '-1'",
        ),
        (
            "--conformance-timeout=soon",
            "ERROR: --conformance-timeout=soon: expected a number of seconds such as 3 or 0.5, got 'soon'",
        ),
        ("--verify=abc", "ERROR: --verify=abc: expected a whole number of runs such as 3, got 'abc'"),
        ("--scale-connections=-5", "ERROR: --scale-connections=-5: *"),
    ],
    ids=["unknown-backend", "negative-timeout", "non-numeric-timeout", "non-numeric-verify", "negative-connections"],
)
def test_bad_option_values_are_usage_errors(pytester: pytest.Pytester, option: str, pattern: str) -> None:
    """A bad value is one line naming the option, not argparse's usage page."""
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, lines
    result.stderr.fnmatch_lines([pattern])


def test_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nconformance_client_backend = curio\n")
    result = pytester.runpytest()
    _assert_usage_error(
        result, "ERROR: conformance_client_backend = 'curio' is not a backend; use one of: trio, asyncio"
    )


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ('[checks."a.b"\nreason = "x"\n', "ERROR: --expectations=*bad.toml: not valid TOML: * (at line 1, column *)"),
        (
            '\n\n[checks."coroutines.fails"]\nwhy = "x"\n',
            "ERROR: --expectations=*bad.toml:3: checks.'coroutines.fails' has unknown key 'why'; allowed keys: *",
        ),
        (
            '[checks."coroutines.fails"]\n',
            "ERROR: --expectations=*bad.toml:1: checks.'coroutines.fails' needs reason = *",
        ),
        ("[other]\nx = 1\n", "ERROR: --expectations=*bad.toml: unknown top-level key 'other'*"),
    ],
    ids=["invalid-toml", "unknown-key", "missing-reason", "unknown-table"],
)
def test_malformed_expectations_file_is_a_usage_error_naming_the_line(
    pytester: pytest.Pytester, content: str, pattern: str
) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    pytester.path.joinpath("bad.toml").write_text(content)
    result = pytester.runpytest("--expectations=bad.toml", "test_checks.py")
    _assert_usage_error(result, pattern)


def test_missing_expectations_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    result = pytester.runpytest("--expectations=nowhere.toml", "test_checks.py")
    _assert_usage_error(result, "ERROR: --expectations=nowhere.toml: cannot read the file (No such file or directory)")


def test_check_without_reference_and_level_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks="import pytest\n@pytest.mark.http11\ndef test_x(): pass\n")
    result = pytester.runpytest("--impl=tornado", "test_checks.py")
    _assert_usage_error(
        result,
        "ERROR: refusing to run checks without metadata: test_checks.py::test_x has no @check(reference, level) declaration*",
    )


def test_check_without_area_marker_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_checks="from conformance import check\n@check('RFC 9112 §9', 'MUST')\ndef test_x(): pass\n"
    )
    result = pytester.runpytest()
    _assert_usage_error(
        result, "ERROR: refusing to run checks without metadata: test_checks.py::test_x carries 0 area markers*"
    )


def test_check_declarations_reject_bad_levels() -> None:
    from conformance import check

    with pytest.raises(ValueError, match="level must be one of MUST, SHOULD, TORNADO, got 'MAY'"):
        check("RFC 9110 §1", "MAY")
    with pytest.raises(ValueError, match="needs a reference"):
        check("", "MUST")


def test_plugin_is_inert_for_ordinary_test_suites(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="import sys\ndef test_x():\n    assert 'tornado' not in sys.modules\n    assert 'h11' not in sys.modules\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "tornado-conformance summary" not in result.stdout.str()
    assert "conformance: implementation" not in result.stdout.str()


def test_report_header_names_the_implementation_and_the_oracles(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    result = pytester.runpytest("--impl=tornado", "test_checks.py")
    result.stdout.fnmatch_lines(
        [
            "conformance: implementation tornado *",
            "conformance: oracles h11 *, wsproto *, hypothesis *, anyio *; client backend trio; timeout 3s",
        ]
    )


def test_shipped_tornado_expectations_are_used_unless_none_is_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    result = pytester.runpytest("--impl=tornado", "test_checks.py")
    result.stdout.fnmatch_lines(["conformance: expectations *deviations*tornado.toml (* known deviations)"])
    result = pytester.runpytest("--impl=tornado", "--expectations=none", "test_checks.py")
    result.stdout.fnmatch_lines(["conformance: expectations none"])


def test_ini_key_selects_the_implementation_and_the_command_line_wins(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nconformance_impl = conformance.fixtures.impls.no_websocket\n")
    pytester.makepyfile(test_checks=GOOD_CHECK)
    result = pytester.runpytest("test_checks.py")
    result.stdout.fnmatch_lines(["conformance: implementation conformance.fixtures.impls.no_websocket *"])
    result = pytester.runpytest("--impl=tornado", "test_checks.py")
    result.stdout.fnmatch_lines(["conformance: implementation tornado *"])


def test_adapter_hook_supplies_the_implementation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    result = pytester.runpytest("--impl=conformance.fixtures.impls.adapter_example", "test_checks.py")
    result.stdout.fnmatch_lines(["conformance: implementation adapter-example *"])
    result.assert_outcomes(passed=1, failed=1)


def test_summary_lists_failures_with_level_and_reference(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    result = pytester.runpytest("test_checks.py")
    result.stdout.fnmatch_lines(
        [
            "*tornado-conformance summary*",
            "area * passed * failed * not provided * expected * stale * skipped",
            "coroutines * 1 * 1 * 0 * 0 * 0 * 0",
            "failures, MUST first:",
            "  SHOULD  coroutines.fails  [Tornado docs: example]  failed: the implementation did X; Y was expected",
        ]
    )


def test_json_results_follow_the_documented_schema(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    pytester.runpytest("test_checks.py", "--conformance-json=out.json")
    data = json.loads(pytester.path.joinpath("out.json").read_text())
    assert data["impl"]["name"] == "tornado" and data["impl"]["version"]
    assert data["python"].count(".") == 2
    assert data["summary"] == {
        "coroutines": {
            "passed": 1,
            "failed": 1,
            "skipped": 0,
            "xfailed": 0,
            "xpassed": 0,
            "not_provided": 0,
            "non_strict": 0,
        }
    }
    by_id = {t["id"]: t for t in data["tests"]}
    failed = by_id["coroutines.fails"]
    assert failed["nodeid"] == "test_checks.py::test_fails"
    assert (failed["area"], failed["outcome"], failed["reference"], failed["level"]) == (
        "coroutines",
        "failed",
        "Tornado docs: example",
        "SHOULD",
    )
    assert failed["message"] == "the implementation did X; Y was expected"
    assert failed["verdict"] == "failed"
    assert by_id["coroutines.passes"]["outcome"] == "passed"


STRUCTURED_CHECK = """
import pytest
from conformance import check, Level, Violation
pytestmark = pytest.mark.http11

@check("RFC 9112 §3.2", Level.MUST)
def test_refuses(impl):
    raise Violation("the server answered a request without Host", expected="400", observed="200 OK",
                    transcript="   >> b'GET / HTTP/1.1'")
"""


def test_violation_fields_reach_the_json_and_the_failure_paragraph(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=STRUCTURED_CHECK)
    result = pytester.runpytest("test_checks.py", "--conformance-json=out.json")
    record = json.loads(pytester.path.joinpath("out.json").read_text())["tests"][0]
    assert (record["outcome"], record["verdict"], record["message"]) == (
        "failed",
        "failed",
        "the server answered a request without Host",
    )
    assert (record["expected"], record["observed"], record["transcript"]) == (
        "400",
        "200 OK",
        "   >> b'GET / HTTP/1.1'",
    )
    result.stdout.fnmatch_lines(["*expected: 400", "*observed: 200 OK", "*bytes exchanged:", "*>> b'GET / HTTP/1.1'"])


def test_outcome_words_are_one_vocabulary() -> None:
    from conformance.outcomes import Verdict

    assert json.dumps([Outcome.NON_STRICT, Verdict.TIMEOUT]) == '["non-strict", "timeout"]'
    assert f"{Outcome.XFAILED}" == "xfailed" and Outcome.NOT_RUN.key == "not_run"


def test_listed_failure_becomes_a_strict_expected_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    pytester.path.joinpath("exp.toml").write_text(
        '[checks."coroutines.fails"]\nreason = "known: does X"\nreference = "docs"\n'
    )
    result = pytester.runpytest("test_checks.py", "--expectations=exp.toml", "--conformance-json=out.json")
    result.assert_outcomes(passed=1, xfailed=1)
    data = json.loads(pytester.path.joinpath("out.json").read_text())
    entry = next(t for t in data["tests"] if t["id"] == "coroutines.fails")
    assert entry["outcome"] == Outcome.XFAILED and entry["expectation"] == "known: does X"


def test_listed_check_that_passes_is_reported_stale(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    pytester.path.joinpath("exp.toml").write_text(
        textwrap.dedent("""
        [checks."coroutines.passes"]
        reason = "was broken once"
    """)
    )
    result = pytester.runpytest("test_checks.py", "--expectations=exp.toml", "--conformance-json=out.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["stale expectations (listed as failing, but passed):", "  coroutines.passes"])
    data = json.loads(pytester.path.joinpath("out.json").read_text())
    entry = next(t for t in data["tests"] if t["id"] == "coroutines.passes")
    assert entry["outcome"] == Outcome.XPASSED and entry["stale"] is True


def test_expectation_naming_no_check_is_a_usage_error_before_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    pytester.path.joinpath("exp.toml").write_text('[checks]\n"coroutines.renamed_long_ago" = { reason = "gone" }\n')
    result = pytester.runpytest("test_checks.py", "--expectations=exp.toml")
    _assert_usage_error(
        result,
        "ERROR: --expectations=exp.toml:2: names 'coroutines.renamed_long_ago', which is no check of the kit "
        "(renamed or removed?); remove the entry, or refresh the file with --update-expectations",
    )


def test_expectation_for_a_check_of_the_kit_not_collected_is_not_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=GOOD_CHECK)
    pytester.path.joinpath("exp.toml").write_text(
        '[checks]\n"http11.invalid_content_length_is_rejected" = { reason = "a check of the kit, not run here" }\n'
        '"coroutines.fails" = { reason = "known" }\n'
    )
    result = pytester.runpytest("test_checks.py", "--expectations=exp.toml")
    result.assert_outcomes(passed=1, xfailed=1)


PARAMETRISED_CHECK = """
import pytest
from conformance import check, Level
pytestmark = pytest.mark.coroutines

@check("Tornado docs: example", Level.MUST)
@pytest.mark.parametrize("case", ["code-1", "code-2", "other"])
def test_family(case):
    assert case == "other", f"the implementation echoed {case}"
"""


def test_one_expectations_line_covers_the_cases_of_a_glob_and_reports_a_stale_case(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=PARAMETRISED_CHECK)
    pytester.path.joinpath("exp.toml").write_text(
        '[checks]\n"coroutines.family" = { cases = ["code-*", "other"], reason = "echoes any code", fixed_in = "9" }\n'
    )
    result = pytester.runpytest("test_checks.py", "--expectations=exp.toml", "--conformance-json=out.json")
    result.assert_outcomes(xfailed=2, failed=1)  # "other" passes: stale
    data = json.loads(pytester.path.joinpath("out.json").read_text())
    by_id = {t["id"]: t for t in data["tests"]}
    assert [by_id[f"coroutines.family[{c}]"]["outcome"] for c in ("code-1", "code-2", "other")] == [
        Outcome.XFAILED,
        Outcome.XFAILED,
        Outcome.XPASSED,
    ]
    assert by_id["coroutines.family[code-1]"]["expectation"] == "echoes any code"
    assert by_id["coroutines.family[code-1]"]["fixed_in"] == "9"
    assert data["unknown_expectations"] == []
    # A case the check does not have is refused, naming it.
    pytester.path.joinpath("exp.toml").write_text(
        '[checks]\n"coroutines.family" = { cases = ["renamed"], reason = "r" }\n'
    )
    _assert_usage_error(
        pytester.runpytest("test_checks.py", "--expectations=exp.toml"),
        "ERROR: --expectations=exp.toml:2: names the case 'coroutines.family[renamed]', which the check "
        "coroutines.family does not have; remove the entry, or refresh the file with --update-expectations",
    )


def test_two_expectations_naming_one_check_are_a_usage_error_naming_both(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=PARAMETRISED_CHECK)
    pytester.path.joinpath("exp.toml").write_text(
        '[checks]\n"coroutines.family" = { reason = "a" }\n"coroutines.family[code-*]" = { reason = "b" }\n'
    )
    result = pytester.runpytest("test_checks.py", "--expectations=exp.toml")
    _assert_usage_error(
        result,
        "ERROR: --expectations=exp.toml:3: 'coroutines.family[[]code-*]' and 'coroutines.family' (line 2) both name "
        "the check 'coroutines.family[[]code-1]'; narrow one of them*",
    )


def test_missing_part_is_reported_not_provided(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_checks="""
        import pytest
        from conformance import check, requires, Level
        pytestmark = [pytest.mark.websocket, requires("websocket")]

        @check("RFC 6455 §4", Level.MUST)
        def test_needs_websocket(impl):
            pass
    """
    )
    result = pytester.runpytest(
        "--impl=conformance.fixtures.impls.no_websocket", "test_checks.py", "-rs", "--conformance-json=out.json"
    )
    result.stdout.fnmatch_lines(
        [
            "websocket * 0 * 0 * 0 * 1 * 0 * 0 * 0",
            "SKIPPED * not provided: conformance.fixtures.impls.no_websocket does not provide 'websocket' (no attribute 'websocket' and no submodule conformance.fixtures.impls.no_websocket.websocket)",
        ]
    )
    data = json.loads(pytester.path.joinpath("out.json").read_text())
    assert data["tests"][0]["outcome"] == Outcome.SKIPPED and data["tests"][0]["not_provided"] is True


def test_module_with_no_tornado_part_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--impl=json")
    _assert_usage_error(result, "ERROR: --impl=json: json provides none of Tornado's API parts (web, *")


NEEDS_WEB = """
import pytest
from conformance import check, requires, Level
pytestmark = [pytest.mark.lifecycle, requires("web")]

@check("Tornado docs: RequestHandler", Level.MUST)
def test_needs_web(impl):
    pass
"""


def test_part_that_fails_to_import_fails_the_checks_that_need_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        **{
            "halfport/__init__.py": "from tornado import ioloop, gen\nversion = '0.1'\n",
            "halfport/web.py": "raise ImportError('half-finished port: no RequestHandler yet')\n",
            "test_checks.py": NEEDS_WEB,
        }
    )
    pytester.syspathinsert()
    result = pytester.runpytest("--impl=halfport", "test_checks.py", "--conformance-json=out.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    record = json.loads(pytester.path.joinpath("out.json").read_text())["tests"][0]
    assert record["outcome"] == Outcome.FAILED and not record["not_provided"]
    assert "halfport.web exists but failed to import" in record["message"]
    assert "ImportError: half-finished port: no RequestHandler yet" in record["message"]


def test_run_where_every_check_is_not_provided_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=NEEDS_WEB.replace('requires("web")', 'requires("websocket")'))
    result = pytester.runpytest("--impl=conformance.fixtures.impls.no_websocket", "test_checks.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["ERROR: --impl=conformance.fixtures.impls.no_websocket: nothing was judged*"])


def test_long_poll_check_works_on_a_port_without_locks(pytester: pytest.Pytester) -> None:
    # It used to make its Future outside the implementation's loop ("attached to a different loop").
    result = pytester.runpytest(
        "--impl=conformance.fixtures.impls.no_locks",
        "-k",
        "long_poll_does_not_delay_short_requests",
        "-p",
        "no:randomly",
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*1 passed*"])


def test_client_checks_leave_no_unclosed_client_under_warnings_as_errors(pytester: pytest.Pytester) -> None:
    # A project with filterwarnings = error must not see a ResourceWarning of a client a
    # check left open fail an unrelated, later check.
    result = pytester.runpytest("--impl=tornado", "-m", "websocket", "-k", "client_", "-W", "error")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]


NON_STRICT_CHECK = """
import pytest
from conformance import check, Level, NonStrict
pytestmark = pytest.mark.websocket

@check("RFC 6455 §7.1.7", Level.MUST)
def test_drops_instead_of_closing():
    raise NonStrict("the connection was failed by a TCP drop; close code 1002 was due")
"""


def test_non_strict_verdict_is_reported_apart_and_fails_only_when_strict(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=NON_STRICT_CHECK)
    result = pytester.runpytest("--impl=tornado", "test_checks.py", "--conformance-json=out.json")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "websocket * 0 * 0 * 1 * 0 * 0 * 0 * 0",
            "non-strict verdicts (*):",
            "  MUST    websocket.drops_instead_of_closing  ?RFC 6455 §7.1.7?  the connection was failed by a TCP drop*",
        ]
    )
    data = json.loads(pytester.path.joinpath("out.json").read_text())
    assert data["tests"][0]["outcome"] == Outcome.NON_STRICT and data["summary"]["websocket"]["non_strict"] == 1
    result = pytester.runpytest("--impl=tornado", "test_checks.py", "--strict-verdicts")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


SCALE_CHECK = """
import pytest
from conformance import check, Level
pytestmark = pytest.mark.scale

@check("Tornado docs: overview", Level.TORNADO)
def test_holds_many(scale_connections, record_metric):
    record_metric("held", scale_connections, "connections")
"""


def test_scale_checks_run_only_when_the_marker_expression_names_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=SCALE_CHECK)
    plain = pytester.runpytest("--impl=tornado", "test_checks.py")
    assert plain.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    plain.stdout.fnmatch_lines(["*1 deselected*"])
    negated = pytester.runpytest("--impl=tornado", "test_checks.py", "-m", "not http11")
    negated.stdout.fnmatch_lines(["*1 deselected*"])
    named = pytester.runpytest(
        "--impl=tornado",
        "test_checks.py",
        "-m",
        "http11 or scale",
        "--scale-connections=7",
        "--conformance-json=out.json",
    )
    assert named.ret == pytest.ExitCode.OK, named.stdout.str()
    record = json.loads(pytester.path.joinpath("out.json").read_text())["tests"][0]
    assert record["metrics"] == {"held": {"value": 7, "unit": "connections"}}


def test_malformed_scale_connections_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=SCALE_CHECK)
    result = pytester.runpytest("--impl=tornado", "test_checks.py", "-m", "scale", "--scale-connections=many")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--scale-connections*"])


def test_not_provided_inside_an_async_check_spares_the_checks_after_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_checks="""
import pytest
from conformance import Level, check, not_provided
pytestmark = pytest.mark.coroutines

@check("Tornado docs: example", Level.MUST)
async def test_a_lacks_something(impl):
    not_provided("this port lacks a keyword argument")

@check("Tornado docs: example", Level.MUST)
async def test_b_runs_after_it(impl):
    pass

@check("Tornado docs: example", Level.MUST)
async def test_c_fails_plainly(impl):
    pytest.fail("the implementation did X")
"""
    )
    result = pytester.runpytest("--impl=tornado", "test_checks.py", "-rs")
    result.assert_outcomes(passed=1, skipped=1, failed=1)
    result.stdout.fnmatch_lines(["*this port lacks a keyword argument*"])


HELPER_CHECK = """
import pytest
from conformance import check, Level, Violation
pytestmark = pytest.mark.http11

def judge(status):
    if status != 400:
        raise Violation("the server answered a request without Host", expected="400", observed=str(status))

def hidden(status):
    __tracebackhide__ = True
    judge(status)

@check("RFC 9112 §3.2", Level.MUST)
def test_refuses(impl):
    hidden(200)

@check("RFC 9112 §3.2", Level.MUST)
def test_asserts(impl):
    status = 200
    assert status == 400, "answered"
"""


def test_a_verdict_is_reported_in_the_short_style_without_pytests_source_analysis(pytester: pytest.Pytester) -> None:
    """A `Violation` is reported by the kit (conformance/_failure_repr.py) in ``--tb=short``'s
    layout: each frame from the check down, hidden frames left out, then the message; any
    other exception keeps pytest's own report (with its assertion introspection)."""
    pytester.makepyfile(test_checks=HELPER_CHECK)
    result = pytester.runpytest("test_checks.py")
    result.stdout.fnmatch_lines(
        [
            "test_checks.py:*: in test_refuses",
            "    hidden(200)",
            "test_checks.py:*: in judge",
            '    raise Violation("the server answered a request without Host", expected="400", observed=str(status))',
            "E   conformance.errors.Violation: the server answered a request without Host",
            "E   expected: 400",
            "E   observed: 200",
        ]
    )
    assert "in hidden" not in result.stdout.str()
    result.stdout.fnmatch_lines(["E   AssertionError: answered", "E   assert 200 == 400"])
