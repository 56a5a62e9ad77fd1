"""The kit's command-line options: one table, read by the plugin's ``pytest_addoption``
(canonical names) and ``pytest_load_initial_conftests`` (short names the project left free)."""

from __future__ import annotations

from typing import Any

from .run import BACKENDS, DEFAULT_IMPL, DEFAULT_SCALE_CONNECTIONS, DEFAULT_TIMEOUT

#: The kit's options: (short name, canonical name, argparse keywords). The canonical names
#: (``--conformance-*``) are always there. A short name is added only once the project's own
#: conftest files have added their options, and only if the project did not take it (a
#: project with its own ``--check`` or ``--level`` runs unchanged; it spells the kit's
#: option ``--conformance-check``). Typed values are read and refused in one line by
#: ``Settings.read`` (conformance/run.py), not by argparse, whose error is a usage page.
OPTIONS: list[tuple[str | None, str, dict[str, Any]]] = [
    (
        "--impl",
        "--conformance-impl",
        dict(
            dest="conformance_impl",
            default=None,
            metavar="MODULE",
            help=f"module of the implementation under test (default: {DEFAULT_IMPL}); "
            "with no test paths, runs the kit's suites against it",
        ),
    ),
    (
        "--client-backend",
        "--conformance-client-backend",
        dict(
            dest="conformance_client_backend",
            default=None,
            metavar="BACKEND",
            help=f"anyio backend of the kit's oracle clients: {' or '.join(BACKENDS)} (default: trio)",
        ),
    ),
    (
        None,
        "--conformance-timeout",
        dict(
            dest="conformance_timeout",
            default=None,
            metavar="SECONDS",
            help=f"deadline of every network operation (default: {DEFAULT_TIMEOUT:g})",
        ),
    ),
    (
        None,
        "--conformance-json",
        dict(dest="conformance_json", default=None, metavar="PATH", help="write the results as JSON to PATH"),
    ),
    (
        "--strict-verdicts",
        "--conformance-strict-verdicts",
        dict(
            dest="conformance_strict_verdicts",
            action="store_true",
            default=None,
            help="count non-strict verdicts (e.g. a TCP drop where a close code was due) as failures",
        ),
    ),
    (
        "--expectations",
        "--conformance-expectations",
        dict(
            dest="conformance_expectations",
            action="append",
            default=None,
            metavar="FILE",
            help="TOML file of the implementation's known deviations (strict expected failures); "
            "may be given more than once, the entries of every file apply",
        ),
    ),
    (
        "--scale-connections",
        "--conformance-scale-connections",
        dict(
            dest="conformance_scale_connections",
            default=None,
            metavar="N",
            help=f"connections each check of the opt-in scale suite (-m scale) holds (default: {DEFAULT_SCALE_CONNECTIONS}, "
            "or fewer where the open-file limit allows no more)",
        ),
    ),
    (
        "--check",
        "--conformance-check",
        dict(
            dest="conformance_check",
            action="append",
            default=None,
            metavar="ID",
            help="run only the check with this stable id, as the summary prints it (repeatable; a bare name "
            "covers every case, * is a wildcard): --check 'http11.invalid_content_length_is_rejected[*]'",
        ),
    ),
    (
        "--level",
        "--conformance-level",
        dict(
            dest="conformance_level",
            action="append",
            default=None,
            metavar="LEVEL",
            help="run only checks of this level: MUST, SHOULD or TORNADO (repeatable, or comma-separated)",
        ),
    ),
    (
        "--reference",
        "--conformance-reference",
        dict(
            dest="conformance_reference",
            action="append",
            default=None,
            metavar="PREFIX",
            help="run only checks citing a reference that starts with PREFIX, e.g. 'RFC 9112 §6' (repeatable)",
        ),
    ),
    (
        "--advisory",
        "--conformance-advisory",
        dict(
            dest="conformance_advisory",
            action="append",
            default=None,
            metavar="ID",
            help="run only checks of this security advisory, e.g. CVE-2023-28370 or GHSA-753j-mpmx-qq6g (repeatable)",
        ),
    ),
    (
        None,
        "--conformance-suites",
        dict(
            dest="conformance_suites",
            action="store_true",
            default=False,
            help="run the kit's shipped suites when no test path is given, even without --impl "
            "(what the tornado-conformance command passes)",
        ),
    ),
    # Expectations that maintain themselves, and flake detection (issue 17; conformance/update.py).
    (
        "--update-expectations",
        "--conformance-update-expectations",
        dict(
            dest="conformance_update_expectations",
            default=None,
            metavar="FILE",
            help="after the run, write or refresh FILE: new failures added (for review), "
            "entries that passed or name no check removed; the run exits as it would have",
        ),
    ),
    (
        "--history",
        "--conformance-history",
        dict(
            dest="conformance_history",
            action="store_true",
            default=None,
            help="end the run with Tornado's fixes since 4.5, release by release: which ones the "
            "implementation carries and which it lacks (conformance/history.py)",
        ),
    ),
    (
        "--verify",
        "--conformance-verify",
        dict(
            dest="conformance_verify",
            default=None,
            metavar="N",
            help="run each selected check N times and report (and fail on) any whose outcome changed",
        ),
    ),
]
