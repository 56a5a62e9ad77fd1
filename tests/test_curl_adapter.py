"""--impl=conformance.adapters.curl: Tornado with CurlAsyncHTTPClient as its httpclient part."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conformance.impl import load
from conformance.run import shipped_expectations


def test_the_httpclient_part_is_the_curl_client_and_nothing_global_changes() -> None:
    pytest.importorskip("pycurl")
    from tornado import curl_httpclient, httpclient, simple_httpclient

    impl = load("conformance.adapters.curl")
    client = impl.part("httpclient").AsyncHTTPClient(force_instance=True)
    try:
        assert isinstance(client, curl_httpclient.CurlAsyncHTTPClient)
    finally:
        client.close()
    assert httpclient.AsyncHTTPClient.configured_class() is simple_httpclient.SimpleAsyncHTTPClient
    assert impl.part("web") is load("tornado").part("web")
    ident = impl.identity()
    assert ident.distribution == "tornado"
    assert ident.http_client is not None
    assert ident.http_client.startswith("tornado.curl_httpclient.CurlAsyncHTTPClient (PycURL/")
    assert shipped_expectations(impl) is not None and shipped_expectations(impl).name == "tornado-curl.toml"


def test_without_pycurl_the_adapter_is_a_one_line_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "pycurl.py"
    blocker.write_text("raise ImportError('pycurl is blocked for this test')\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tornado_conformance_cli", "--impl=conformance.adapters.curl", "-q"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 4, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "needs pycurl" in lines[0] and "pip install pycurl" in lines[0], lines


def test_the_kit_judges_the_curl_client(kit) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pycurl")
    run = kit("--impl=conformance.adapters.curl", "--check", "http11.client_stops_after_max_redirects")
    assert run.returncode == 0, run.output  # its shipped expectations hold the two cases
    assert run.ids_with("xfailed") == {
        "http11.client_stops_after_max_redirects[limit-2]",
        "http11.client_stops_after_max_redirects[default-5]",
    }
    assert run.results is not None and run.results["impl"]["expectations_family"] == "tornado-curl"
