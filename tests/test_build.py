"""The website builds with every notebook executed and no warning."""

import re

import yaml

from conftest import HTML, ROOT


def toc_files():
    """Every page the table of contents lists, as paths relative to the root (no suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def test_book_builds_strictly(built_book):
    output = built_book.stdout + built_book.stderr
    warnings = [line for line in output.splitlines() if re.search(r"WARNING|ERROR", line)
                and "Kernel is running over TCP" not in line]
    assert built_book.returncode == 0, "build failed:\n" + "\n".join(warnings or output.splitlines()[-40:])
    assert (HTML / "index.html").exists()


def test_every_page_of_the_toc_is_built(built_book):
    assert built_book.returncode == 0
    missing = [f for f in toc_files() if not (HTML / f"{f}.html").exists()]
    assert not missing, f"pages in _toc.yml without HTML: {missing}"


def test_every_chapter_notebook_is_in_the_toc():
    listed = set(toc_files())
    notebooks = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "chapters").glob("*.ipynb")}
    assert notebooks <= listed, f"notebooks missing from _toc.yml (they would not be built): {sorted(notebooks - listed)}"


def built_pages():
    """(page name, HTML text) of every page of the table of contents, as built."""
    return [(f, (HTML / f"{f}.html").read_text(encoding="utf-8")) for f in toc_files()]


def test_pages_load_only_what_they_use(built_book):
    assert built_book.returncode == 0
    for name, page in built_pages():
        # fontawesome.js redraws the icons the theme's web font already draws (1.5 MB)
        assert "fontawesome.js" not in page, f"{name} loads fontawesome.js"
        # no live code on the site: thebe is not loaded (and its settings never doubled)
        assert "THEBE_JS_URL" not in page and "sphinx-thebe" not in page, f"{name} loads thebe"
        # no widgets run on the site: their recorded state is dead weight
        assert "application/vnd.jupyter.widget-state+json" not in page, f"{name} embeds widget state"
        # the book uses no sphinx-design directive (tab-set, card, grid, dropdown)
        assert "sphinx-design" not in page and "design-tabs.js" not in page, f"{name} loads sphinx-design"
        # the search index is for the search page only (search-as-you-type is off)
        assert "searchindex.js" not in page, f"{name} loads the search index"
    assert "searchindex.js" in (HTML / "search.html").read_text(encoding="utf-8")


def test_every_page_names_its_authors_and_licences(built_book, root):
    assert built_book.returncode == 0
    for name, page in built_pages():
        footer = page[page.index('<footer class="bd-footer-content'):]
        for words in ("Vanishing and Exploding Gradients contributors", "CC BY 4.0", "MIT License"):
            assert words in footer, f"{name}: the footer does not say {words!r}"
    assert "MIT License" in (root / "LICENSE").read_text()
    assert "Attribution 4.0 International Public License" in (root / "LICENSE-TEXT").read_text()


def test_download_menu_offers_each_pages_source(built_book):
    assert built_book.returncode == 0
    for name, page in built_pages():
        source = next(ROOT / f"{name}{suffix}" for suffix in (".ipynb", ".md") if (ROOT / f"{name}{suffix}").exists())
        href = f"_sources/{source.relative_to(ROOT).as_posix()}"
        assert href in page, f"{name}: the download menu does not offer {href}"
        assert (HTML / href).is_file(), f"{name}: {href} is offered but not built"


def _plain(html_text):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html_text)).strip()


def test_reference_list_is_labelled_as_the_text_cites(built_book):
    assert built_book.returncode == 0
    references = (HTML / f"{toc_files()[0]}.html").read_text(encoding="utf-8")
    # <div class="citation" id="id8" ...><span class="label"><span class="fn-bracket">[</span>
    #   <a role="doc-backlink" href="#id2">Bengio et al., 1994</a>...</span>
    labels = {m[0]: _plain(m[1]).strip("[]") for m in re.findall(
        r'<div class="citation" id="([^"]+)"[^>]*>\s*<span class="label">(.*?)</span>\s*</span>', references, re.S)}
    assert labels, "no reference list found"
    cited = 0
    for name, page in built_pages():
        for target, text in re.findall(r'<a class="reference internal" href="[^"]*#([^"]+)" title="[^"]*">(.*?)</a>', page):
            if target in labels:
                cited += 1
                # two works with one author-year label are told apart by a letter: 1980a, 1980b
                assert re.fullmatch(re.escape(_plain(text)) + "[a-z]?", labels[target]), (
                    f"{name} cites [{_plain(text)}] but the reference list labels it [{labels[target]}]")
    assert cited > 0, "no citation found in the text"
