"""Producing output: templates and flush() as chunks.

Reference: Tornado docs, RequestHandler.render, render_string and flush
(https://www.tornadoweb.org/en/stable/web.html#output), the template guide
(https://www.tornadoweb.org/en/stable/guide/templates.html), RFC 9112 §7.1 (chunked coding).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@check("Tornado docs: RequestHandler.render, render_string; guide/templates, autoescaping", Level.TORNADO)
async def test_render_uses_template_path_and_autoescapes_by_default(impl, server, http, tmp_path):
    """RequestHandler.render: "Renders the template with the given arguments as the response."
    render_string: "Generate the given template with the given arguments. We return the generated
    byte string (in utf8)." The template guide: "Tornado templates support autoescaping ... by
    default, all expressions are escaped"; ``{% raw %}`` opts out."""
    web = impl.part("web")
    (tmp_path / "page.html").write_text("<p>{{ name }}</p>{% raw trusted %}", encoding="utf-8")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            fragment = self.render_string("page.html", name="<b>&'", trusted="<i>kept</i>")
            # &#39; and &#x27; are the same character reference (Tornado wrote the first before
            # 6.4, following html.escape since): one spelling, so only the escaping is judged.
            fragment = fragment.replace(b"&#39;", b"&#x27;")
            trace.add(f"render_string -> {type(fragment).__name__} {fragment!r}")
            self.render("page.html", name="<script>", trusted="<hr>")

    srv = server.serve([("/", Handler)], {"template_path": str(tmp_path)})
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.add(f"render -> {response.status}, {response.header('Content-Type')}, body {response.body!r}")
    trace.assert_equal(
        [
            "render_string -> bytes b'<p>&lt;b&gt;&amp;&#x27;</p><i>kept</i>'",
            "render -> 200, text/html; charset=UTF-8, body b'<p>&lt;script&gt;</p><hr>'",
        ],
        "templates come from the template_path setting; {{ }} expressions are HTML-escaped by default and "
        "{% raw %} is not; render_string returns bytes and render() sends the page. What was produced:",
    )


@check("Tornado docs: RequestHandler.flush; RFC 9112 §7.1 (descriptive: chunk boundaries are free)", Level.TORNADO)
async def test_flush_sends_each_part_as_a_chunk(impl, server, http):
    """RequestHandler.flush: "Flushes the current output buffer to the network." RFC 9112 §7.1
    describes, without a requirement on where chunks end: "The chunked transfer coding wraps
    content in order to transfer it as a series of chunks, each with its own size indicator".
    Tornado's choice: a response whose length is unknown when its first part is flushed is sent
    with the chunked coding, each flush() sends what was written since the last one as one
    chunk, and the Future flush() returns resolves once the chunk is written."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        async def get(self):
            for part in ("alpha", "beta"):
                self.write(part)
                await self.flush()
                trace.add(f"get: flush() of {part!r} done")
            self.finish("gamma")

        def on_finish(self):
            trace.add("on_finish")

    srv = server.serve([("/", Handler)])
    async with await http.connect(srv) as conn:
        response = await conn.request("GET", "/")
    server.barrier()
    raw = b"".join(data for direction, data in conn.transcript.entries if direction == "<<" and isinstance(data, bytes))
    body = raw.split(b"\r\n\r\n", 1)[-1]
    trace.add(f"Transfer-Encoding: {response.header('Transfer-Encoding') or '(absent)'}")
    trace.add(f"chunks: {_chunks(body)!r}")
    trace.assert_equal(
        [
            "get: flush() of 'alpha' done",
            "get: flush() of 'beta' done",
            "on_finish",
            "Transfer-Encoding: chunked",
            "chunks: [b'alpha', b'beta', b'gamma', b'']",
        ],
        "each flush() must send the output written so far as a chunk of a chunked response (its Future "
        "resolving after), and finish() the rest and the last chunk. What the handler and the client saw:",
    )


def _chunks(body: bytes) -> list[bytes] | str:
    """The chunk payloads of a chunked body (RFC 9112 §7.1), or why it is not one."""
    chunks: list[bytes] = []
    while True:
        size_line, sep, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0], 16)
        except ValueError:
            return f"not chunked: {body[:60]!r}"
        chunks.append(rest[:size])
        body = rest[size + 2 :]
        if size == 0 or not sep:
            return chunks


@check("Tornado docs: RequestHandler.xsrf_form_html; guide/templates, UI modules", Level.TORNADO)
async def test_xsrf_form_html_module_renders_inside_a_template(impl, server, http, tmp_path):
    """RequestHandler.xsrf_form_html: "An HTML ``<input/>`` element to be included with all POST
    forms. [...] In a template, this method should be called with ``{% module xsrf_form_html() %}``."
    The template guide lists ``xsrf_form_html`` among the names every template sees (``{% raw %}``
    keeps autoescaping off its markup). Rendered
    inside a template, it gives the same hidden input as the handler method, carrying the token
    of the ``_xsrf`` cookie the same response sets."""
    web = impl.part("web")
    (tmp_path / "form.html").write_text(
        "<form>{% module xsrf_form_html() %}</form>|{% raw xsrf_form_html() %}", encoding="utf-8"
    )
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            trace.add(f"handler method: {self.xsrf_form_html()}")
            self.render("form.html")

    srv = server.serve([("/", Handler)], {"template_path": str(tmp_path), "xsrf_cookies": True})
    response = await http.request(srv, "GET", "/")
    server.barrier()
    method_html = trace.events[0].split(": ", 1)[1] if trace.events else "(the handler did not run)"
    trace.add(f"status {response.status}")
    trace.add(f"template: {response.text}")
    trace.assert_equal(
        [f"handler method: {method_html}", "status 200", f"template: <form>{method_html}</form>|{method_html}"],
        "{% module xsrf_form_html() %} and {% raw xsrf_form_html() %} in a template must render the hidden _xsrf "
        "input exactly as RequestHandler.xsrf_form_html() does (one token per request). What was rendered:",
    )
