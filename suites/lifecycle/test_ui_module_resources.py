"""The JavaScript and CSS a page's UI modules ask for go through the handler's overridable
render_linked_js, render_embed_js, render_linked_css and render_embed_css.

Reference: Tornado docs, RequestHandler.render_linked_js / render_embed_js / render_linked_css /
render_embed_css and web.UIModule
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.render_linked_js), and
the Tornado 4.5.0 release notes, tornado.web.
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver", "template")]

HOOKS = ("render_linked_js", "render_embed_js", "render_linked_css", "render_embed_css")


@check(
    "Tornado 4.5.0 release notes (tornado.web); Tornado docs: RequestHandler.render_linked_js, render_embed_js, "
    "render_linked_css, render_embed_css; web.UIModule",
    Level.TORNADO,
)
async def test_ui_module_resources_are_rendered_by_the_overridable_hooks(impl, server, http, tmp_path):
    """RequestHandler.render_linked_js: "Default method used to render the final js links for the
    rendered webpage. Override this method in a sub-classed controller to change the output."
    (the same for render_embed_js, render_linked_css and render_embed_css). UIModule:
    javascript_files, embedded_javascript, css_files and embedded_css are what a module asks the
    page to carry. The 4.5.0 release notes: "New methods RequestHandler.render_linked_js,
    render_embed_js, render_linked_css, and render_embed_css can be overridden to customize the
    output of UIModule." A handler overriding all four sees its output in the page."""
    web = impl.part("web")
    missing = [hook for hook in HOOKS if not hasattr(web.RequestHandler, hook)]
    if missing:
        not_provided(f"{impl.name}'s RequestHandler has no {', '.join(missing)} (before Tornado 4.5)")
    (tmp_path / "page.html").write_text(
        "<html><head><title>t</title></head><body>{% module Widget() %}</body></html>", encoding="utf-8"
    )

    class Widget(web.UIModule):
        def render(self):
            return "<p>widget</p>"

        def javascript_files(self):
            return ["/a.js", "https://cdn.example/b.js"]

        def embedded_javascript(self):
            return "var x = 1;"

        def css_files(self):
            return ["/a.css"]

        def embedded_css(self):
            return "p { color: red }"

    class Page(web.RequestHandler):
        def get(self):
            self.render("page.html")

        def render_linked_js(self, js_files):
            return "<!--linked-js " + " ".join(js_files) + "-->"

        def render_embed_js(self, js_embed):
            return b"<!--embed-js " + b" ".join(js_embed) + b"-->"

        def render_linked_css(self, css_files):
            return "<!--linked-css " + " ".join(css_files) + "-->"

        def render_embed_css(self, css_embed):
            return b"<!--embed-css " + b" ".join(css_embed) + b"-->"

    srv = server.serve([("/page", Page)], {"template_path": str(tmp_path), "ui_modules": {"Widget": Widget}})
    response = await http.request(srv, "GET", "/page")
    wanted = [
        b"<!--linked-js /a.js https://cdn.example/b.js-->",
        b"<!--embed-js var x = 1;-->",
        b"<!--linked-css /a.css-->",
        b"<!--embed-css p { color: red }-->",
        b"<p>widget</p>",
    ]
    absent = [piece for piece in wanted if piece not in response.body]
    if response.status != 200 or absent:
        raise Violation(
            "the page's UI module resources were not rendered through the handler's render_linked_js, "
            "render_embed_js, render_linked_css and render_embed_css overrides.",
            expected=f"200 with {[piece.decode() for piece in wanted]}",
            observed=f"{response.describe()} with {response.body[:400]!r} (missing {absent!r})",
            transcript=response.transcript,
        )
