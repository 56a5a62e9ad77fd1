"""docs/quickstart.md, followed as written: every ``sh`` block but the install step runs,
command by command, in an empty folder, and each command exits as the page says
(``# exit N`` at the end of its line; 0 otherwise).

It runs the whole kit several times (about a minute and a half on two cores), so it runs
where ``CONFORMANCE_QUICKSTART=1`` is set: in one tox environment (tox.ini), or by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "quickstart.md"

pytestmark = pytest.mark.skipif(
    os.environ.get("CONFORMANCE_QUICKSTART") != "1", reason="set CONFORMANCE_QUICKSTART=1 (tox runs it on one Python)"
)


def commands(page: str) -> list[tuple[str, int]]:
    """The page's commands in order, each with the exit status it announces."""
    found: list[tuple[str, int]] = []
    for block in re.findall(r"```sh\n(.*?)```", page, re.DOTALL):
        lines = block.splitlines()
        if lines and lines[0].startswith("# install"):
            continue
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            command = line
            heredoc = re.search(r"<<'(\w+)'", line)
            if heredoc:
                while i < len(lines):
                    command += "\n" + lines[i]
                    i += 1
                    if lines[i - 1] == heredoc.group(1):
                        break
            status = re.search(r"#\s*exit (\d+)\s*$", line)
            found.append((command, int(status.group(1)) if status else 0))
    return found


def test_the_page_announces_the_steps_it_promises() -> None:
    run = [command for command, _ in commands(PAGE.read_text())]
    assert any("--update-expectations=" in c for c in run)
    assert any(c.startswith("tornado-conformance-matrix --diff") for c in run)


def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CONFORMANCE_"))}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    for command, expected in commands(PAGE.read_text()):
        proc = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == expected, (
            f"{command!r} exited {proc.returncode}, the page says {expected}:\n"
            + proc.stdout[-4000:]
            + proc.stderr[-2000:]
        )
    toml = (tmp_path / "conformance.toml").read_text()
    assert "lifecycle.redirect_sends_location_with_the_requested_status" in toml
    assert "(generated)" in toml
    assert "http11.responses_carry_a_date_and_tornados_server_field" not in toml
