"""Property checks are built lazily: hypothesis is imported only when one runs, under the
kit's ``ci`` profile unless ``--hypothesis-profile`` chooses another."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PROBE = """
import sys

def _note(where):
    with open("hypothesis-imported.txt", "a") as f:
        f.write(f"{where} {'hypothesis' in sys.modules}\\n")

def pytest_collection_finish(session):
    _note("collected")

def pytest_unconfigure(config):
    _note("finished")
"""

PROPERTY_CHECK = """
import pytest
from conformance import Level, check, hypothesis_property
pytestmark = pytest.mark.coroutines

@check("Tornado docs: example", Level.MUST)
@hypothesis_property({"n": lambda st: st.integers()}, ci_max_examples=7)
def test_property(impl, n):
    with open("examples.txt", "a") as f:
        f.write(f"{n}\\n")
"""


def _notes(path: Path) -> list[str]:
    return (path / "hypothesis-imported.txt").read_text().splitlines()


def test_collecting_and_running_other_checks_never_imports_hypothesis(pytester: pytest.Pytester) -> None:
    # Collecting the shipped suites imports every suite module, the property ones included.
    pytester.makepyfile(probe=PROBE)
    result = pytester.runpytest_subprocess("--impl=tornado", "-p", "probe", "-p", "no:cacheprovider", "-m", "lifecycle")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert _notes(pytester.path) == ["collected False", "finished False"]


def test_collecting_every_check_never_imports_hypothesis(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(probe=PROBE)
    result = pytester.runpytest_subprocess("--impl=tornado", "-p", "probe", "-p", "no:cacheprovider", "--collect-only")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert _notes(pytester.path) == ["collected False", "finished False"]


def test_a_property_check_imports_hypothesis_when_it_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(probe=PROBE, test_checks=PROPERTY_CHECK)
    result = pytester.runpytest_subprocess("--impl=tornado", "-p", "probe", "-p", "no:cacheprovider", "test_checks.py")
    result.assert_outcomes(passed=1)
    assert _notes(pytester.path) == ["collected False", "finished True"]


@pytest.mark.parametrize(
    ("options", "examples"),
    [
        ((), 7),
        (("--hypothesis-profile=ci",), 7),
        (("--hypothesis-profile=thorough",), 2000),
        # Another hypothesis option (hypothesis's plugin then imports it at configuration).
        (("--hypothesis-verbosity=quiet",), 7),
    ],
    ids=["default-ci", "ci", "thorough", "other-option"],
)
def test_property_checks_run_under_the_chosen_profile(
    pytester: pytest.Pytester, options: tuple[str, ...], examples: int
) -> None:
    pytester.makepyfile(test_checks=PROPERTY_CHECK)
    result = pytester.runpytest_subprocess("--impl=tornado", "-p", "no:cacheprovider", *options, "test_checks.py")
    result.assert_outcomes(passed=1)
    seen = (pytester.path / "examples.txt").read_text().splitlines()
    assert len(seen) == examples, f"{len(seen)} examples ran under {options or 'the default'}"


def test_the_ci_profile_is_derandomised(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=PROPERTY_CHECK)
    runs = []
    for _ in range(2):
        result = pytester.runpytest_subprocess("--impl=tornado", "-p", "no:cacheprovider", "test_checks.py")
        result.assert_outcomes(passed=1)
        runs.append((pytester.path / "examples.txt").read_text())
        (pytester.path / "examples.txt").unlink()
    assert runs[0] == runs[1]


def test_a_generated_argument_the_check_does_not_take_is_refused() -> None:
    from conformance import hypothesis_property

    def test_x(impl, n):  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(TypeError, match="takes no argument m"):
        hypothesis_property({"m": lambda st: st.integers()})(test_x)


def test_a_property_check_leaves_no_hypothesis_directory_in_the_project(pytester: pytest.Pytester) -> None:
    # Even without an example database, hypothesis caches what it reads from local modules
    # (test_checks.py here) under ./.hypothesis/ unless told otherwise (conformance._profiles).
    pytester.makepyfile(test_checks=PROPERTY_CHECK)
    result = pytester.runpytest_subprocess("--impl=tornado", "-p", "no:cacheprovider", "test_checks.py")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / ".hypothesis").exists(), sorted(
        p.name for p in (pytester.path / ".hypothesis").iterdir()
    )
