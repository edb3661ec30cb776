"""The website as a reader's browser shows it: every page, in headless Chromium, offline.

The built site (`built_book`) is served on localhost and opened page by page in Debian's
Chromium through Playwright. Every request that leaves localhost is aborted, so the site
must carry everything it needs (it serves its own MathJax). On each page:

- no console errors (beyond the short allowlist below) and no request off the machine;
- math typeset by MathJax, with no raw `$$` or `\\frac` left in the text;
- every image loaded, with alt text that describes it (a file name is not alt text);
- every internal link resolving: the file exists, and so does the anchor on it;
- exercise solutions collapsed (written solutions and the code of answer cells);
- each kernel-free companion (figure.vg-companion) shows one frame, and moving its
  slider shows another, announces the value it shows (aria-valuetext) and is a touch
  target of at least 24 x 24 px;
- no error or traceback among the cells' outputs;
- no accessibility violation found by axe-core (the copy bundled in the
  axe-playwright-python package), beyond the commented allowlist of upstream causes below,
  and no duplicate id;
- at a phone's 390 px, nothing makes the page scroll sideways: wide tables and equations
  scroll inside their own box;
- printed, the screen controls are hidden, code wraps, and solutions are open.

A full-page screenshot of every page goes to _build/screenshots/ (at 390 px: phone/).
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from conftest import HTML, SCREENSHOTS
from test_build import toc_files

# Every page of the book: those of the table of contents, and Sphinx's own index and search.
PAGES = [f"{f}.html" for f in toc_files()] + ["genindex.html", "search.html"]

# Console messages that are not the book's fault. Each entry says why it is harmless.
ALLOWED_CONSOLE_ERRORS = [
    # pydata-sphinx-theme reads the light/dark choice from localStorage, which is empty in a
    # fresh browser profile; it logs this and falls back to the default ("auto") mode.
    re.compile(r"Got invalid theme mode"),
]

# axe-core's rules as it ships them (WCAG 2 A and AA, and best practices), plus the
# experimental "label in name" rule (WCAG 2.5.3): a control's accessible name contains its
# visible label, so that a speech user can say what they see.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"label-content-name-mismatch": {"enabled": True}}}

# Violations whose cause is upstream and which the book cannot repair cleanly: rule id ->
# a JavaScript predicate, run on each failing element, that is true where the failure is
# allowed (and the comment above it says why). Everything else fails the test. The book's
# own repairs of upstream markup are in _static/book-a11y.js.
AXE_ALLOWED = {
    # MathJax's CommonHTML output draws every character of a formula with CSS (::before
    # content), so a table header that is nothing but a formula, such as $\lambda_1$, has no
    # text in the DOM and axe-core calls it empty. It is not empty to a screen reader, which
    # reads MathJax's assistive MathML. Allowed for headers holding only typeset math.
    "empty-table-header": """e => { const c = e.cloneNode(true), math = c.querySelectorAll('mjx-container');
                                  math.forEach(m => m.remove());
                                  return math.length > 0 && !c.textContent.trim(); }""",
}

# The widths of a desktop window and of a phone (an iPhone 12 to 15, in CSS pixels).
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# The local hosts the site is served from; every other request is aborted.
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# A file name or path as alt text (Jupyter Book's default when a figure has none).
FILE_LIKE = re.compile(r"(^\S*\.(png|jpe?g|gif|svg|webp)$)|(^\S*/\S*$)|(^_images)", re.IGNORECASE)

FACTS = """
() => {
  // shown: rendered, not hidden by display, visibility or opacity, and taking up room
  const shown = el => !!(el && el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
                            && el.getBoundingClientRect().height > 0);
  const math = [...document.querySelectorAll('.math')];
  const text = document.body.cloneNode(true);
  text.querySelectorAll('pre, code, script, style, textarea, mjx-container').forEach(e => e.remove());
  const body = s => [...s.children].filter(c => !c.classList.contains('admonition-title')
                                              && c.tagName !== 'BUTTON');
  return {
    math: math.length,
    typeset: document.querySelectorAll('mjx-container').length,
    untypeset: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
    raw: [...new Set(text.textContent.match(/\\$\\$|\\\\frac|\\\\\\(|\\\\\\[|\\\\begin\\{/g) || [])],
    images: [...document.images].map(i => ({src: (i.currentSrc || i.src).slice(0, 100),
                                            alt: i.getAttribute('alt'), width: i.naturalWidth})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    solutions: [...document.querySelectorAll('.solution')].map(s => ({
        id: s.id, shown: body(s).filter(shown).map(c => c.textContent.trim().slice(0, 60))})),
    // answer cells: tagged hide-input, or holding an nbgrader solution region
    answers: [...document.querySelectorAll('.cell')].filter(c => c.classList.contains('tag_hide-input')
                || c.textContent.includes('### BEGIN SOLUTION')).map(c => ({
        code: (c.querySelector('.cell_input') || c).textContent.trim().slice(0, 60),
        shown: shown(c.querySelector('.cell_input'))})),
    companions: document.querySelectorAll('figure.vg-companion').length,
    // inline formulas that scroll sideways in their own box (a scrollbar in the line of text)
    scrolling_math: [...document.querySelectorAll('span.math')].filter(m => m.scrollWidth > m.clientWidth + 1)
                      .map(m => m.textContent.trim().slice(0, 60)),
    errors: [...document.querySelectorAll('.cell_output .output.error, .cell_output .output.traceback')]
              .map(e => e.textContent.trim().slice(0, 300)),
    duplicate_ids: Object.entries([...document.querySelectorAll('[id]')].reduce((n, e) =>
                     (n[e.id] = (n[e.id] || 0) + 1, n), {})).filter(([id, k]) => k > 1).map(([id]) => id),
  };
}
"""

VISIBLE_FRAME = """
figure => {
  const frames = [...figure.querySelectorAll('img[data-frame]')];
  const on = frames.filter(m => getComputedStyle(m).display !== 'none');
  // a short digest of the whole image source: frames may share their first and last bytes
  const digest = s => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7).toString(16);
  const slider = figure.querySelector('input[type="range"]');
  const box = slider.getBoundingClientRect();
  return {count: frames.length, visible: on.map(m => +m.dataset.frame),
          loaded: on.every(m => m.complete && m.naturalWidth > 0),
          src: on.map(m => digest(m.src)), readout: figure.querySelector('output').textContent,
          valuetext: slider.getAttribute('aria-valuetext'), slider: [box.width, box.height]};
}
"""

# How far the page scrolls sideways, and the elements that make it: those reaching past the
# right edge with no ancestor that scrolls or clips them.
OVERFLOW = """
() => {
  const root = document.documentElement, limit = root.clientWidth + 1;
  const contained = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
                             if (getComputedStyle(a).overflowX !== 'visible') return true; return false; };
  const wide = e => e.getBoundingClientRect().right > limit && !contained(e)
                    && getComputedStyle(e).position !== 'fixed';   // off-canvas drawers
  const culprits = [...document.querySelectorAll('body *')].filter(e => wide(e) && !wide(e.parentElement))
    .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} (${Math.round(e.getBoundingClientRect().right)} px)`);
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, culprits: culprits.slice(0, 8)};
}
"""

# Under print media: what a printed page would show of the screen controls, code and solutions.
PRINTED = """
() => {
  const shown = el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const controls = [...document.querySelectorAll('details.hide > summary, button.toggle-button, '
                       + 'button.copybtn, figure.vg-companion input[type="range"]')].filter(shown);
  const pre = [...document.querySelectorAll('.cell_input pre, .cell_output pre')]
                .filter(p => getComputedStyle(p).whiteSpace !== 'pre-wrap');
  const solutions = [...document.querySelectorAll('.solution')].filter(s =>
      [...s.children].some(c => !c.classList.contains('admonition-title') && !shown(c)));
  return {controls: controls.map(c => c.outerHTML.slice(0, 80)), unwrapped: pre.length,
          closed_solutions: solutions.map(s => s.id)};
}
"""


def target_ids(path, _cache={}):
    """The ids and names an HTML file defines (what a #fragment may point to)."""
    if path not in _cache:
        class Collect(HTMLParser):
            ids = set()

            def handle_starttag(self, tag, attrs):
                for key, value in attrs:
                    if key in ("id", "name") and value:
                        self.ids.add(value)
        parser = Collect()
        parser.ids = set()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        _cache[path] = parser.ids
    return _cache[path]


def _opener(browser, site, viewport, shots, inspect):
    """A context at ``viewport`` that opens each page once, offline, and runs ``inspect(tab)``."""
    context = browser.new_context(viewport=viewport)
    blocked = []

    def route(r):
        if urlsplit(r.request.url).hostname in LOCAL_HOSTS:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    seen = {}

    def open_page(page):
        if page in seen:
            return seen[page]
        tab = context.new_page()
        console, start = [], len(blocked)
        tab.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
        tab.on("response", lambda r: console.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        response = tab.goto(site + page, wait_until="load", timeout=60_000)
        if response is None or response.status != 200:
            tab.close()
            pytest.fail(f"{page}: not served (HTTP {response and response.status}); was it built?")
        # MathJax typesets after load; its startup promise resolves when it is done. Its web
        # fonts are fetched only then, as the typeset glyphs are laid out: until they arrive the
        # glyphs are drawn in a fallback font a pixel or two wider, so wait for them as well.
        tab.evaluate("async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
                     " await MathJax.startup.promise;"
                     " document.body.getBoundingClientRect(); await document.fonts.ready; }")
        tab.evaluate("async () => { await Promise.all([...document.images].map(i => i.complete ? 0 :"
                     " new Promise(r => { i.onload = i.onerror = r; setTimeout(r, 10000); }))); }")
        facts = inspect(tab, console)
        shot = shots / page.replace(".html", ".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(shot), full_page=True)
        facts.setdefault("console", list(console))
        facts.update(blocked=blocked[start:], screenshot=shot, url=tab.url)
        tab.close()
        seen[page] = facts
        return facts

    return context, open_page


def _desktop_facts(tab, console):
    facts = tab.evaluate(FACTS)
    tab.emulate_media(media="print")
    facts["printed"] = tab.evaluate(PRINTED)
    tab.emulate_media(media="screen")
    facts["companion_moves"] = [move_slider(figure) for figure in tab.locator("figure.vg-companion").all()]
    # The page's own messages, before axe-core runs: axe re-fetches the stylesheets a
    # stylesheet @imports, resolving their URLs against the page instead of the stylesheet
    # (so theme.css's "../basic.css" becomes a 404 for /basic.css).
    facts["console"] = list(console)
    facts["axe"] = Axe().run(tab, options=AXE_OPTIONS).response["violations"]
    for violation in facts["axe"]:
        for node in violation["nodes"]:
            node["allowed"] = violation["id"] in AXE_ALLOWED and tab.evaluate(
                f"selector => ({AXE_ALLOWED[violation['id']]})(document.querySelector(selector))",
                node["target"][0])
    return facts


@pytest.fixture(scope="session")
def visit(browser, site):
    """visit(page) -> what the page showed at 1280 px; each page is opened once per test run."""
    context, open_page = _opener(browser, site, DESKTOP, SCREENSHOTS, _desktop_facts)
    yield open_page
    context.close()


@pytest.fixture(scope="session")
def visit_phone(browser, site):
    """visit_phone(page) -> how the page fits a phone's 390 px width."""
    context, open_page = _opener(browser, site, PHONE, SCREENSHOTS / "phone", lambda tab, _: tab.evaluate(OVERFLOW))
    yield open_page
    context.close()


def move_slider(figure):
    """Move a companion's slider to another frame; what it showed before and after."""
    before = figure.evaluate(VISIBLE_FRAME)
    slider = figure.locator('input[type="range"]')
    target = (int(slider.input_value()) + 1) % before["count"]
    slider.fill(str(target))
    after = figure.evaluate(VISIBLE_FRAME)
    return {"before": before, "after": after, "target": target}


@pytest.mark.parametrize("page", PAGES)
def test_no_console_errors(visit, page):
    errors = [m for m in visit(page)["console"] if not any(a.search(m) for a in ALLOWED_CONSOLE_ERRORS)]
    assert not errors, f"{page}: console errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("page", PAGES)
def test_loads_nothing_from_outside(visit, page):
    blocked = visit(page)["blocked"]
    assert not blocked, f"{page} requests resources off this machine (it must work offline): {blocked}"


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset(visit, page):
    facts = visit(page)
    assert not facts["untypeset"], f"{page}: math MathJax did not typeset: {facts['untypeset'][:5]}"
    assert facts["typeset"] >= facts["math"], f"{page}: {facts['math']} math elements, {facts['typeset']} typeset"
    assert not facts["raw"], f"{page}: raw TeX in the visible text: {facts['raw']}"


@pytest.mark.parametrize("page", PAGES)
def test_inline_math_needs_no_scrollbar_on_a_desktop(visit, page):
    scrolling = visit(page)["scrolling_math"]
    assert not scrolling, f"{page}: inline math wider than its box at {DESKTOP['width']} px: {scrolling}"


@pytest.mark.parametrize("page", PAGES)
def test_images_load_and_have_descriptive_alt_text(visit, page):
    bad = []
    for image in visit(page)["images"]:
        alt = (image["alt"] or "").strip()
        if image["width"] == 0:
            bad.append(f"not loaded: {image['src']}")
        if not alt:
            bad.append(f"no alt text: {image['src']}")
        elif FILE_LIKE.search(alt) or alt == Path(urlsplit(image["src"]).path).name:
            bad.append(f"alt text is a file name ({alt!r}): {image['src']} - describe the figure "
                       f"in the cell metadata mystnb.image.alt")
    assert not bad, f"{page}:\n" + "\n".join(bad)


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(visit, site, page):
    broken = []
    for href in sorted(set(visit(page)["links"])):
        if not href.startswith(site):
            continue  # external links are not followed offline
        parts = urlsplit(href)
        path = HTML / unquote(parts.path).lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            broken.append(f"{href}: no such file")
        elif parts.fragment and path.suffix == ".html" and unquote(parts.fragment) not in target_ids(path):
            broken.append(f"{href}: no anchor #{parts.fragment} on {path.relative_to(HTML)}")
    assert not broken, f"{page}: broken internal links:\n" + "\n".join(broken)


@pytest.mark.parametrize("page", PAGES)
def test_exercise_solutions_are_collapsed(visit, page):
    facts = visit(page)
    open_solutions = [s for s in facts["solutions"] if s["shown"]]
    assert not open_solutions, (f"{page}: solutions shown before the reader asks (add `:class: dropdown`): "
                                f"{open_solutions}")
    open_answers = [a["code"] for a in facts["answers"] if a["shown"]]
    assert not open_answers, (f"{page}: answer cells show their code (tag them hide-input): "
                              f"{open_answers}")


@pytest.mark.parametrize("page", PAGES)
def test_companions_render_and_scrub(visit, page):
    moves = visit(page)["companion_moves"]
    assert len(moves) == visit(page)["companions"]
    for i, move in enumerate(moves):
        before, after = move["before"], move["after"]
        label = f"{page}: companion {i + 1}"
        assert before["count"] >= 2, f"{label} has {before['count']} frames"
        assert len(before["visible"]) == 1 and before["loaded"], f"{label} does not show one loaded frame: {before}"
        assert after["visible"] == [move["target"]] and after["loaded"], f"{label}: the slider did not change the frame: {after}"
        assert after["src"] != before["src"] and after["readout"] != before["readout"], f"{label}: the frame did not change"
        assert before["valuetext"] == before["readout"] and after["valuetext"] == after["readout"], (
            f"{label}: a screen reader hears {after['valuetext']!r}, the page shows {after['readout']!r}")
        assert min(before["slider"]) >= 24, f"{label}: the slider is {before['slider']} px, below a 24 px touch target"


@pytest.mark.parametrize("page", PAGES)
def test_no_cell_shows_an_error(visit, page):
    errors = visit(page)["errors"]
    assert not errors, f"{page}: a cell's output is an error:\n" + "\n---\n".join(errors)


def describe(violation):
    nodes = "\n".join(f"    {', '.join(n['target'])}: {n['html'][:120]}" for n in violation["nodes"][:6])
    return f"  {violation['id']} ({violation['impact']}): {violation['help']}\n{nodes}"


@pytest.mark.parametrize("page", PAGES)
def test_accessibility(visit, page):
    facts = visit(page)
    failing = [dict(v, nodes=[n for n in v["nodes"] if not n["allowed"]]) for v in facts["axe"]]
    failing = [v for v in failing if v["nodes"]]
    assert not failing, f"{page}: axe-core finds:\n" + "\n".join(describe(v) for v in failing)
    assert not facts["duplicate_ids"], f"{page}: duplicate ids: {facts['duplicate_ids']}"


@pytest.mark.parametrize("page", PAGES)
def test_fits_a_phone(visit_phone, page):
    fit = visit_phone(page)
    assert fit["scrollWidth"] <= fit["clientWidth"], (
        f"{page} scrolls sideways at {PHONE['width']} px: {fit['scrollWidth']} px of content in "
        f"{fit['clientWidth']}; wider than the screen: {fit['culprits']}")


@pytest.mark.parametrize("page", PAGES)
def test_prints_without_screen_controls(visit, page):
    printed = visit(page)["printed"]
    assert not printed["controls"], f"{page}: screen controls would print: {printed['controls']}"
    assert not printed["unwrapped"], f"{page}: {printed['unwrapped']} code blocks would print unwrapped"
    assert not printed["closed_solutions"], f"{page}: solutions would print closed: {printed['closed_solutions']}"


def test_every_page_was_screenshotted(visit):
    for page in PAGES:
        shot = visit(page)["screenshot"]
        assert shot.is_file() and shot.stat().st_size > 0, f"no screenshot of {page}"


def test_search_finds_pages_without_downloading_them(browser, site):
    """Results list the matching pages; no snippet is cut from a downloaded page (and so
    none shows raw LaTeX): html_show_search_summary is off."""
    context = browser.new_context(viewport=DESKTOP)
    context.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname in LOCAL_HOSTS else r.abort())
    tab = context.new_page()
    requested = []
    tab.on("request", lambda r: requested.append(urlsplit(r.url).path))
    tab.goto(site + "search.html?q=Jacobian", wait_until="load")
    tab.wait_for_selector("#search-results ul.search li", timeout=30_000)
    results = tab.locator("#search-results ul.search li").all_inner_texts()
    context.close()
    assert results, "searching for 'Jacobian' finds nothing"
    pages = [p for p in requested if p.endswith(".html") and not p.endswith("/search.html")]
    assert not pages, f"the search page downloads whole pages for its snippets: {pages}"
    assert not any(re.search(r"\\\(|\\\[|\$\$", r) for r in results), f"raw LaTeX in the results: {results}"
