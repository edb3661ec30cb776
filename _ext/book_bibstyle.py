"""The reference list labelled the way the text cites: [Bengio et al., 1994].

The prose cites author–year (``bibtex_reference_style: author_year`` in _config.yml), but
pybtex's built-in styles label the list by initials ([BSF94]) or by number. This Sphinx
extension registers a pybtex style, ``author_year``, that sorts the list by author and
year as pybtex's ``plain`` does and labels each entry with the text of its citation:
"Hochreiter, 1991", "Glorot and Bengio, 2010", "Bengio et al., 1994". Two works with the
same label get a letter each: "Benettin et al., 1980a", "... 1980b".

_config.yml loads it through ``sphinx.local_extensions`` and selects it with
``bibtex_default_style: author_year``.
"""

from collections import Counter

from pybtex.plugin import find_plugin, register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Last, year", "Last and Last, year" or "Last et al., year"."""

    def __init__(self):
        super().__init__()
        # sphinxcontrib-bibtex's own style for the last names in an author-year citation
        self.name_style = find_plugin("pybtex.style.names", "last")()

    def last_name(self, person):
        return self.name_style.format(person).format().render_as("text")

    def author_label(self, entry):
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [self.last_name(p) for p in persons]
        if not names:
            return entry.fields.get("title", entry.key)
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        return f"{names[0]} et al."

    def format_labels(self, sorted_entries):
        labels = [f"{self.author_label(e)}, {e.fields.get('year', 'n.d.')}" for e in sorted_entries]
        repeated = Counter(labels)
        seen = Counter()
        for label in labels:
            if repeated[label] > 1:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label]]
                seen[label] += 1
            else:
                yield label


class AuthorYearStyle(PlainStyle):
    """pybtex's ``plain`` style (sorted by author, year, title) with author–year labels."""

    default_label_style = AuthorYearLabelStyle


def setup(app):
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
