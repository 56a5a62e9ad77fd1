"""Templates: the ``tornado.template`` syntax, its loaders, and rendering from a handler.

Reference: Tornado docs, the ``template`` module (https://www.tornadoweb.org/en/stable/template.html:
its syntax reference, ``Template``, ``Loader``, ``DictLoader``, ``filter_whitespace``,
``ParseError``), and ``RequestHandler.render``/``render_string``/``get_template_namespace``
with the ``template_path``, ``template_loader``, ``template_whitespace``, ``ui_modules`` and
``ui_methods`` Application settings (https://www.tornadoweb.org/en/stable/web.html).

Rules of this file:

1. The syntax checks drive ``template.Template`` and ``template.DictLoader`` alone (rendering
   needs no loop); the handler checks render over the wire with ``RequestHandler.render``.
2. What a template produced is compared as text; an exception raised while parsing or
   rendering is reported as what the implementation did, never as an error of the check.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("template")]

TEMPLATE_DOCS = "Tornado docs: template"
WEB = requires("web", "httpserver")


def _outcome(produce: Any) -> str:
    """What ``produce()`` gave, as text: the rendered page, or the exception it raised."""
    try:
        output = produce()
    except Exception as exc:  # the implementation's failure is the observation
        return f"raised {type(exc).__name__}: {exc}"
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return f"returned {type(output).__name__} {output!r}"


def _expect(what: str, expected: str, observed: str, why: str) -> None:
    if observed != expected:
        raise Violation(f"{what}: {why}", expected=expected, observed=observed)


# -- statements and expressions -------------------------------------------------------------

STATEMENTS = [
    pytest.param(
        "{% for n in (1, 2, 3) %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% end %};{% end %}",
        {},
        "one;two;many;",
        '"{% if condition %}...{% elif condition %}...{% else %}...{% end %}: Conditional statement - outputs '
        'the first section whose condition is true."',
        id="if-elif-else",
    ),
    pytest.param(
        "{% for n in range(9) %}{% if n == 1 %}{% continue %}{% end %}{% if n == 4 %}{% break %}{% end %}"
        "{{ n }}{% end %}",
        {},
        "023",
        '"{% for var in expr %}...{% end %}: Same as the python for statement. {% break %} and {% continue %} '
        'may be used inside the loop."',
        id="for-break-continue",
    ),
    pytest.param(
        "{% set n = 3 %}{% while n %}{{ n }}{% set n -= 1 %}{% end %}",
        {},
        "321",
        '"{% while condition %}... {% end %}: Same as the python while statement."',
        id="while",
    ),
    pytest.param(
        "{% try %}{{ 1 // zero }}{% except ZeroDivisionError %}caught{% finally %}!{% end %}",
        {"zero": 0},
        "caught!",
        '"{% try %}...{% except %}...{% else %}...{% finally %}...{% end %}: Same as the python try statement."',
        id="try-except-finally",
    ),
    pytest.param(
        '{% set greeting = "hi " + name %}{{ greeting }}/{{ greeting.upper() }}',
        {"name": "ann"},
        "hi ann/HI ANN",
        '"{% set x = y %}: Sets a local variable."',
        id="set",
    ),
    pytest.param(
        "{% apply shout %}a{{ name }}b{% end %}c",
        {"name": "x", "shout": lambda text: text.upper()},
        "AXBc",
        '"{% apply function %}...{% end %}: Applies a function to the output of all template code between '
        'apply and end"',
        id="apply",
    ),
    pytest.param(
        "a{# a note #}b{% comment hidden %}c",
        {},
        "abc",
        '"To comment out a section so that it is omitted from the output, surround it with {# ... #}"; '
        '"{% comment ... %}: A comment which will be removed from the template output."',
        id="comments",
    ),
    pytest.param(
        "{{! name }}|{%! if %}|{#! note #}",
        {"name": "x"},
        "{{ name }}|{% if %}|{# note #}",
        '"To include a literal {{, {%, or {# in the output, escape them as {{!, {%!, and {#!, respectively."',
        id="literal-braces",
    ),
    pytest.param(
        '{% import math %}{% from posixpath import basename %}{{ math.floor(2.5) }}|{{ basename("/a/b.txt") }}',
        {},
        "2|b.txt",
        '"{% import module %}: Same as the python import statement." "{% from x import y %}: Same as the python '
        'import statement."',
        id="import-from",
    ),
    pytest.param(
        "{% raw markup %}|{{ markup }}",
        {"markup": "<b>"},
        "<b>|&lt;b&gt;",
        '"{% raw expr %}: Outputs the result of the given expression without autoescaping."',
        id="raw",
    ),
    pytest.param(
        "{% autoescape None %}{{ markup }}",
        {"markup": "<b>"},
        "<b>",
        '"{% autoescape function %}: Sets the autoescape mode for the current file." ({% autoescape None %})',
        id="autoescape-directive",
    ),
    pytest.param(
        '{{ squeeze(" a \\n b ") }}|{{ url_escape("a b&") }}|{% raw json_encode({"k": "</"}) %}|'
        '{% raw escape("<&>") %}|{% raw xhtml_escape(\'"\') %}|{{ datetime.date(2020, 1, 2).isoformat() }}|'
        '{% raw linkify("see http://example.com") %}',
        {},
        'a b|a+b%26|{"k": "<\\/"}|&lt;&amp;&gt;|&quot;|2020-01-02|see <a href="http://example.com">http://example.com</a>',
        '"We provide the functions escape(), url_escape(), json_encode(), and squeeze() to all templates by '
        'default." (the template guide lists xhtml_escape, linkify and datetime too)',
        id="default-namespace",
    ),
]


@check(TEMPLATE_DOCS, Level.TORNADO)
@pytest.mark.parametrize(("source", "arguments", "expected", "sentence"), STATEMENTS)
def test_template_syntax_renders_as_documented(impl, source, arguments, expected, sentence):
    """The template module's syntax reference: "Template expressions are surrounded by double curly
    braces: {{ ... }}. The contents may be any python expression, which will be escaped according to
    the current autoescape setting and inserted into the output. Other template directives use
    {% %}." Each case quotes the directive's own sentence."""
    template = impl.part("template")
    observed = _outcome(lambda: template.Template(source).generate(**arguments))
    _expect(
        f"Template({source!r}).generate(**{sorted(arguments)}) did not render as documented",
        expected,
        observed,
        f"the template docs say {sentence}",
    )


# -- extends, block and include -------------------------------------------------------------


@check(TEMPLATE_DOCS, Level.TORNADO)
def test_extends_replaces_only_the_blocks_the_child_defines(impl):
    """``{% block name %}``: "Blocks in the parent template will be replaced with the contents of the
    same-named block in a child template." ``{% extends filename %}``: "Inherit from another template.
    [...] Anything in the child template not contained in a block tag will be ignored." A block the
    child leaves out keeps the parent's content; blocks are looked up through every ancestor."""
    template = impl.part("template")
    loader = template.DictLoader(
        {
            "base.html": "<title>{% block title %}Default{% end %}</title><main>{% block body %}B{% end %}</main>",
            "middle.html": '{% extends "base.html" %}{% block title %}Middle {{ who }}{% end %}',
            "child.html": '{% extends "middle.html" %}ignored{% block body %}Child {{ who }}{% end %}',
        }
    )
    observed = {
        name: _outcome(lambda name=name: loader.load(name).generate(who="ann"))
        for name in ("base.html", "middle.html", "child.html")
    }
    expected = {
        "base.html": "<title>Default</title><main>B</main>",
        "middle.html": "<title>Middle ann</title><main>B</main>",
        "child.html": "<title>Middle ann</title><main>Child ann</main>",
    }
    if observed != expected:
        raise Violation(
            "templates that {% extends %} another did not render as the parent page with the child's blocks: a "
            "child replaces the same-named blocks of its ancestors, the others keep the parent's content, and "
            "what the child has outside blocks is ignored.",
            expected=expected,
            observed=observed,
        )


@check(TEMPLATE_DOCS, Level.TORNADO)
def test_include_sees_the_local_variables_of_the_including_template(impl):
    """``{% include filename %}``: "Includes another template file. The included file can see all the
    local variables as if it were copied directly to the point of the include directive". A variable
    set with ``{% set %}`` and a loop variable are locals of the including template."""
    template = impl.part("template")
    loader = template.DictLoader(
        {
            "list.html": '{% set sep = ";" %}{% for item in items %}{% include "item.html" %}{% end %}',
            "item.html": "[{{ title }}:{{ item }}{{ sep }}]",
        }
    )
    observed = _outcome(lambda: loader.load("list.html").generate(title="t", items=["a", "b"]))
    _expect(
        "an {% include %}d template did not see the including template's variables",
        "[t:a;][t:b;]",
        observed,
        "the included file can see all the local variables (here the loop variable 'item' and 'sep' from "
        "{% set %}) as if it were copied to the point of the include, as well as the arguments of generate().",
    )


@check(TEMPLATE_DOCS, Level.TORNADO)
def test_loader_caches_templates_until_reset(impl, tmp_path):
    """BaseLoader: "You must use a template loader to use template constructs like {% extends %} and
    {% include %}. The loader caches all templates after they are loaded the first time."
    BaseLoader.reset: "Resets the cache of compiled templates." Loader "loads from a single root
    directory". A file changed after its first load keeps rendering as first loaded until reset()."""
    template = impl.part("template")
    page = tmp_path / "page.txt"
    page.write_text("first {{ n }}", encoding="utf-8")
    loader = template.Loader(str(tmp_path))
    observed = [_outcome(lambda: loader.load("page.txt").generate(n=1))]
    page.write_text("second {{ n }}", encoding="utf-8")
    observed.append(_outcome(lambda: loader.load("page.txt").generate(n=2)))
    observed.append(_outcome(lambda: (loader.reset(), loader.load("page.txt").generate(n=3))[1]))
    expected = ["first 1", "first 2", "second 3"]
    if observed != expected:
        raise Violation(
            "a Loader did not serve page.txt from its cache between loads, or did not read it again after "
            "reset(): the loader caches templates after their first load, and reset() empties that cache.",
            expected=expected,
            observed=observed,
        )


# -- autoescape -------------------------------------------------------------------------------

AUTOESCAPE = [
    pytest.param("template", "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;", id="template-default"),
    pytest.param("template-none", '<a href="x">&</a>', id="template-autoescape-none"),
    pytest.param("loader", "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;", id="loader-default"),
    pytest.param("loader-none", '<a href="x">&</a>', id="loader-autoescape-none"),
]


@check(TEMPLATE_DOCS, Level.TORNADO)
@pytest.mark.parametrize(("how", "expected"), AUTOESCAPE)
def test_expressions_are_xhtml_escaped_unless_autoescape_is_none(impl, how, expected):
    """Template: "autoescape: The name of a function in the template namespace, or None to disable
    escaping by default." BaseLoader: "autoescape: The name of a function in the template namespace,
    such as "xhtml_escape", or None to disable autoescaping by default." Both default to
    ``xhtml_escape`` (the documented signature ``Template(..., autoescape="xhtml_escape", ...)``;
    the guide: "The default escaping function is tornado.escape.xhtml_escape" and "The automatic
    escaping behavior can be disabled globally by passing autoescape=None to the Application or
    tornado.template.Loader constructors")."""
    template = impl.part("template")
    source = "{{ link }}"
    link = '<a href="x">&</a>'

    def produce():
        if how == "template":
            return template.Template(source).generate(link=link)
        if how == "template-none":
            return template.Template(source, autoescape=None).generate(link=link)
        loader = (
            template.DictLoader({"t": source})
            if how == "loader"
            else template.DictLoader({"t": source}, autoescape=None)
        )
        return loader.load("t").generate(link=link)

    # &#39; / &#x27; and &quot; / &#34; spell the same characters: only the quote is judged here.
    observed = _outcome(produce).replace("&#34;", "&quot;")
    _expect(
        f"{{{{ link }}}} rendered through {how} did not follow the autoescape setting",
        expected,
        observed,
        "expressions are passed through xhtml_escape by default, and inserted as they are when autoescape is None.",
    )


# -- whitespace -------------------------------------------------------------------------------

TEXT = "a  \t b\n\n   c\n"
WHITESPACE = [
    pytest.param("name", "page.html", "a b\nc\n", id="html-name-single"),
    pytest.param("name", "page.js", "a b\nc\n", id="js-name-single"),
    pytest.param("name", "page.txt", TEXT, id="txt-name-all"),
    pytest.param("directive", "{% whitespace oneline %}", "a b c ", id="directive-oneline"),
    pytest.param("directive", "{% whitespace all %}", TEXT, id="directive-all"),
    pytest.param("loader", "all", TEXT, id="loader-all-over-html-name"),
    pytest.param("loader", "oneline", "a b c ", id="loader-oneline"),
    pytest.param("keyword", "single", "a b\nc\n", id="keyword-single"),
]


@check(TEMPLATE_DOCS, Level.TORNADO)
@pytest.mark.parametrize(("how", "setting", "expected"), WHITESPACE)
def test_whitespace_follows_the_mode_in_force(impl, how, setting, expected):
    """filter_whitespace: "all: Return all whitespace unmodified. single: Collapse consecutive whitespace
    with a single whitespace character, preserving newlines. oneline: Collapse all runs of whitespace
    into a single space character, removing all newlines in the process." ``{% whitespace mode %}``:
    "Sets the whitespace mode for the remainder of the current file". Template ``whitespace``: "A
    string specifying treatment of whitespace"; the loader's ``whitespace`` applies to the templates
    it loads; BaseLoader ``whitespace``: "A string specifying default behavior for whitespace in
    templates; see filter_whitespace for options. Default is "single" for files ending in ".html"
    and ".js" and "all" for other files." (a Template without loader follows the same rule)."""
    template = impl.part("template")

    def produce():
        if how == "name":
            return template.Template(TEXT, name=setting).generate()
        if how == "directive":
            return template.Template(setting + TEXT, name="page.html").generate()
        if how == "loader":
            return template.DictLoader({"page.html": TEXT}, whitespace=setting).load("page.html").generate()
        return template.Template(TEXT, name="page.txt", whitespace=setting).generate()

    _expect(
        f"text {TEXT!r} rendered with the whitespace mode given by {how} {setting!r} came out wrong",
        expected,
        _outcome(produce),
        "single collapses runs of spaces and tabs to one and runs containing a newline to one newline, oneline "
        "collapses every run to one space, all keeps the text; the mode comes from {% whitespace %}, else the "
        "whitespace argument or the loader's, else the file name (.html/.js single, others all).",
    )


# -- errors -----------------------------------------------------------------------------------

PARSE_ERRORS = [
    pytest.param("line one\n{% end %}", 2, id="extra-end"),
    pytest.param("line one\nline two\n{% if x %}open", 3, id="missing-end"),
    pytest.param("{{ fine }}\n{% frobnicate %}", 2, id="unknown-directive"),
    pytest.param("a\nb\n{% else %}", 3, id="else-outside-block"),
]


@check(TEMPLATE_DOCS, Level.TORNADO)
@pytest.mark.parametrize(("source", "line"), PARSE_ERRORS)
def test_syntax_errors_raise_parse_error_with_template_name_and_line(impl, source, line):
    """ParseError: "Raised for template syntax errors. ParseError instances have filename and lineno
    attributes indicating the position of the error." (versionchanged 4.3: "Added filename and lineno
    attributes.") Loading a malformed template through a loader raises it, naming the template."""
    template = impl.part("template")
    loader = template.DictLoader({"broken.html": source})
    try:
        loader.load("broken.html").generate(x=1, fine=1)
    except template.ParseError as exc:
        observed: Any = {
            "filename": getattr(exc, "filename", "(no attribute)"),
            "lineno": getattr(exc, "lineno", "(no attribute)"),
        }
        message = str(exc)
    except Exception as exc:
        observed, message = f"raised {type(exc).__name__}: {exc}", ""
    else:
        observed, message = "rendered without an error", ""
    expected = {"filename": "broken.html", "lineno": line}
    if observed != expected:
        raise Violation(
            f"the malformed template {source!r} did not raise a ParseError pointing at broken.html line {line}: "
            "ParseError instances have filename and lineno attributes indicating the position of the error.",
            expected=expected,
            observed=observed if not message else {**observed, "str": message},
        )


@check(TEMPLATE_DOCS, Level.TORNADO)
def test_undefined_name_raises_name_error(impl):
    """The syntax reference: expressions "may be any python expression" and ``if``/``for`` "get
    translated exactly into Python": a name neither passed to generate() nor in the namespace is a
    Python NameError when the template runs, not an empty string."""
    template = impl.part("template")
    observed = _outcome(lambda: template.Template("before {{ missing_name }} after").generate())
    if not observed.startswith("raised NameError"):
        raise Violation(
            "an expression naming an undefined variable did not raise NameError from generate(): expressions "
            "are evaluated as Python, so an unknown name is an error, not silently rendered.",
            expected="raised NameError: name 'missing_name' is not defined",
            observed=observed,
        )


# -- rendering from a handler -----------------------------------------------------------------


@WEB
@check(
    "Tornado docs: RequestHandler.render, render_string; Application settings template_path, template_loader",
    Level.TORNADO,
)
@pytest.mark.parametrize("setting", ["template_path", "template_loader"])
async def test_render_loads_from_the_configured_templates(impl, server, http, tmp_path, setting):
    """RequestHandler.render: "Renders the template with the given arguments as the response. render()
    calls finish(), so no other output methods can be called after it." The Application settings:
    "template_path: Directory containing template files." "template_loader: Assign to an instance of
    tornado.template.BaseLoader to customize template loading. If this setting is used the
    template_path and autoescape settings are ignored." A template that extends another is
    resolved by the same loader; the response carries RequestHandler's default Content-Type,
    text/html; charset=UTF-8."""
    web, template = impl.part("web"), impl.part("template")
    files = {
        "base.html": "<h1>{% block title %}Base{% end %}</h1>{% block body %}{% end %}",
        "page.html": '{% extends "base.html" %}{% block body %}<p>{{ name }}</p>{% end %}',
    }
    if setting == "template_path":
        for name, text in files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        settings: dict[str, Any] = {"template_path": str(tmp_path)}
    else:
        # A template_path holding other files must be ignored when a template_loader is given.
        (tmp_path / "page.html").write_text("wrong directory", encoding="utf-8")
        settings = {"template_loader": template.DictLoader(files), "template_path": str(tmp_path)}

    class Handler(web.RequestHandler):
        def get(self):
            self.render("page.html", name="ann")

    srv = server.serve([("/", Handler)], settings)
    response = await http.request(srv, "GET", "/")
    observed = (response.status, response.header("Content-Type"), response.body)
    expected = (200, "text/html; charset=UTF-8", b"<h1>Base</h1><p>ann</p>")
    if observed != expected:
        raise Violation(
            f"render('page.html') with the {setting} setting did not send the rendered page: templates come from "
            "the template_loader setting when given, else from template_path; the page is the response, "
            "finished, with the default Content-Type.",
            expected=expected,
            observed=observed,
            transcript=response.transcript,
        )


@WEB
@check("Tornado docs: Application settings template_whitespace; template.filter_whitespace", Level.TORNADO)
@pytest.mark.parametrize(
    ("whitespace", "expected"),
    [
        pytest.param(None, b"<p>\na b\n</p>\n", id="default-html-single"),
        pytest.param("oneline", b"<p> a b </p> ", id="oneline"),
        pytest.param("all", b"<p>\n  a   b\n\n</p>\n", id="all"),
    ],
)
async def test_template_whitespace_setting_applies_to_rendered_files(
    impl, server, http, tmp_path, whitespace, expected
):
    """Application settings: "template_whitespace: Controls handling of whitespace in templates; see
    tornado.template.filter_whitespace for allowed values. New in Tornado 4.3." Without it, the
    loader's default applies (BaseLoader: "Default is "single" for files ending in ".html" and
    ".js" and "all" for other files.")."""
    web = impl.part("web")
    (tmp_path / "page.html").write_text("<p>\n  a   b\n\n</p>\n", encoding="utf-8")

    class Handler(web.RequestHandler):
        def get(self):
            self.render("page.html")

    settings: dict[str, Any] = {"template_path": str(tmp_path)}
    if whitespace is not None:
        settings["template_whitespace"] = whitespace
    srv = server.serve([("/", Handler)], settings)
    response = await http.request(srv, "GET", "/")
    if (response.status, response.body) != (200, expected):
        raise Violation(
            f"render() of a .html file with template_whitespace={whitespace!r} did not treat whitespace as "
            "that mode (default for .html: single) says.",
            expected=(200, expected),
            observed=(response.status, response.body),
            transcript=response.transcript,
        )


@WEB
@check("Tornado docs: template ({% module %}); web.UIModule; Application setting ui_modules", Level.TORNADO)
async def test_module_directive_renders_a_ui_module_unescaped(impl, server, http, tmp_path):
    """``{% module expr %}``: "Renders a UIModule. The output of the UIModule is not escaped", e.g.
    ``{% module Template("foo.html", arg=42) %}``. The Application settings: "ui_modules and
    ui_methods: May be set to a mapping of UIModule or UI methods to be made available to
    templates." A UIModule is constructed with the RequestHandler rendering the page (its
    ``handler``) and its ``render`` method's output is inserted where the directive stands."""
    web = impl.part("web")
    (tmp_path / "page.html").write_text(
        '<div>{% module Badge("<b>" + who) %}|{% module Template("part.html", arg=42) %}</div>', encoding="utf-8"
    )
    (tmp_path / "part.html").write_text("<i>{{ arg }}</i>", encoding="utf-8")

    class Badge(web.UIModule):
        def render(self, label):
            return f"{label}</b>@{self.handler.request.path}"

    class Handler(web.RequestHandler):
        def get(self):
            self.render("page.html", who="ann")

    srv = server.serve([("/page", Handler)], {"template_path": str(tmp_path), "ui_modules": {"Badge": Badge}})
    response = await http.request(srv, "GET", "/page")
    expected = (200, b"<div><b>ann</b>@/page|<i>42</i></div>")
    if (response.status, response.body) != expected:
        raise Violation(
            "{% module %} did not insert the UI module's output as it is: the module named in ui_modules "
            "renders with the handler rendering the template, and its output is not escaped.",
            expected=expected,
            observed=(response.status, response.body),
            transcript=response.transcript,
        )


@WEB
@check("Tornado docs: Application settings ui_methods; guide/templates (template namespace)", Level.TORNADO)
async def test_ui_methods_receive_the_handler_first(impl, server, http, tmp_path):
    """Application settings: "ui_modules and ui_methods: May be set to a mapping of UIModule or UI
    methods to be made available to templates." The template guide lists among the names every
    template sees "All entries from the ui_methods and ui_modules Application settings". The docs
    do not spell out the calling convention; Tornado's (since 1.0, and what every application's UI
    methods are written for) is that a UI method gets the RequestHandler rendering the template as
    its first argument: ``def shout(handler, text)`` is called as ``{{ shout("x") }}``."""
    web = impl.part("web")
    (tmp_path / "page.html").write_text('{{ shout("hey") }}', encoding="utf-8")

    def shout(handler, text):
        return f"{text.upper()} from {type(handler).__name__} {handler.request.method}"

    class Handler(web.RequestHandler):
        def get(self):
            self.render("page.html")

    srv = server.serve([("/", Handler)], {"template_path": str(tmp_path), "ui_methods": {"shout": shout}})
    response = await http.request(srv, "GET", "/")
    expected = (200, b"HEY from Handler GET")
    if (response.status, response.body) != expected:
        raise Violation(
            "a ui_methods function called from a template was not given the RequestHandler as its first "
            "argument, ahead of the template's own arguments.",
            expected=expected,
            observed=(response.status, response.body),
            transcript=response.transcript,
        )


@WEB
@check("Tornado docs: RequestHandler.get_template_namespace", Level.TORNADO)
async def test_get_template_namespace_override_adds_names(impl, server, http, tmp_path):
    """RequestHandler.get_template_namespace: "Returns a dictionary to be used as the default template
    namespace. May be overridden by subclasses to add or modify values. The results of this method
    will be combined with additional defaults in the tornado.template module and keyword arguments to
    render or render_string." Keyword arguments of render win over the namespace."""
    web = impl.part("web")
    (tmp_path / "page.txt").write_text(
        "{{ site }}|{{ title }}|{{ request.path }}|{{ handler.__class__.__name__ }}|{{ squeeze(' a  b ') }}",
        encoding="utf-8",
    )

    class Handler(web.RequestHandler):
        def get_template_namespace(self):
            namespace = super().get_template_namespace()
            namespace.update(site="example", title="from namespace")
            return namespace

        def get(self):
            self.render("page.txt", title="from render")

    srv = server.serve([("/here", Handler)], {"template_path": str(tmp_path)})
    response = await http.request(srv, "GET", "/here")
    expected = (200, b"example|from render|/here|Handler|a b")
    if (response.status, response.body) != expected:
        raise Violation(
            "a template rendered by a handler did not see the names its get_template_namespace() added, "
            "combined with the template module's defaults and render()'s keyword arguments (which win).",
            expected=expected,
            observed=(response.status, response.body),
            transcript=response.transcript,
        )


@WEB
@check("Tornado docs: guide/structure, Error Handling; RequestHandler.render; template", Level.TORNADO)
@pytest.mark.parametrize(
    "source",
    [pytest.param("<p>{{ missing_name }}</p>", id="undefined-name"), pytest.param("<p>{% end %}</p>", id="syntax")],
)
async def test_template_error_in_a_handler_answers_500(impl, server, http, tmp_path, source):
    """The guide, Error Handling: "If a handler raises an exception, Tornado will call
    RequestHandler.write_error to generate an error page. tornado.web.HTTPError can be used to
    generate a specified status code; all other exceptions return a 500 status." A template that
    cannot be parsed (ParseError) or whose code raises (NameError) while render() runs is such an
    exception: the client gets a 500, never a page built from the template."""
    web = impl.part("web")
    (tmp_path / "page.html").write_text(source, encoding="utf-8")

    class Handler(web.RequestHandler):
        def get(self):
            self.render("page.html")

    srv = server.serve([("/", Handler)], {"template_path": str(tmp_path)})
    response = await http.request(srv, "GET", "/")
    if response.status != 500 or b"<p>" in response.body:
        raise Violation(
            f"render() of a template that fails ({source!r}) did not answer 500: the exception must reach the "
            "handler's error handling, not be rendered as a page.",
            expected="500 Internal Server Error, without the template's output",
            observed=(response.status, response.body[:200]),
            transcript=response.transcript,
        )
