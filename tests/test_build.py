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
