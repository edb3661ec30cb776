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
  slider shows another.

A full-page screenshot of every page goes to _build/screenshots/.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import HTML, SCREENSHOTS
from test_build import toc_files

# Every page of the book: those of the table of contents, and Sphinx's own index and search.
PAGES = [f"{f}.html" for f in toc_files()] + ["genindex.html", "search.html"]

# Console messages that are not the book's fault. Each entry says why it is harmless.
ALLOWED_CONSOLE_ERRORS = [
    # pydata-sphinx-theme reads the light/dark choice from localStorage, which is empty in a
    # fresh browser profile; it logs this and falls back to the default ("auto") mode.
    re.compile(r"Got invalid theme mode"),
    # Jupyter Book 1 always loads sphinx-thebe, and under Sphinx 7 its inline settings script
    # lands in the page twice; the second copy re-declares the same constants and is skipped.
    # Thebe itself never starts (no launch buttons), so nothing on the page depends on it.
    re.compile(r"^uncaught: Identifier 'THEBE_JS_URL' has already been declared$"),
]

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
  };
}
"""

VISIBLE_FRAME = """
figure => {
  const frames = [...figure.querySelectorAll('img[data-frame]')];
  const on = frames.filter(m => getComputedStyle(m).display !== 'none');
  return {count: frames.length, visible: on.map(m => +m.dataset.frame),
          loaded: on.every(m => m.complete && m.naturalWidth > 0),
          src: on.map(m => m.src.slice(-40)), readout: figure.querySelector('output').textContent};
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


@pytest.fixture(scope="session")
def visit(browser, site):
    """visit(page) -> what the page showed; each page is opened once per test run."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
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
        response = tab.goto(site + page, wait_until="load", timeout=60_000)
        if response is None or response.status != 200:
            tab.close()
            pytest.fail(f"{page}: not served (HTTP {response and response.status}); was it built?")
        # MathJax typesets after load; its startup promise resolves when it is done.
        tab.evaluate("async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
                     " await MathJax.startup.promise; }")
        tab.evaluate("async () => { await Promise.all([...document.images].map(i => i.complete ? 0 :"
                     " new Promise(r => { i.onload = i.onerror = r; setTimeout(r, 10000); }))); }")
        facts = tab.evaluate(FACTS)
        shot = SCREENSHOTS / page.replace(".html", ".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(shot), full_page=True)
        facts["companion_moves"] = [move_slider(figure) for figure in tab.locator("figure.vg-companion").all()]
        facts.update(console=console, blocked=blocked[start:], screenshot=shot, url=tab.url)
        tab.close()
        seen[page] = facts
        return facts

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


def test_every_page_was_screenshotted(visit):
    for page in PAGES:
        shot = visit(page)["screenshot"]
        assert shot.is_file() and shot.stat().st_size > 0, f"no screenshot of {page}"
