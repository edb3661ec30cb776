"""Numbers from a notebook into its prose.

``glue("ratio", 3.2e-7, "{:.1e}")`` hands the value to myst-nb, so the page can say
``{glue:text}`ratio``` and show the number the notebook computed. Where myst-nb is not
installed (Colab, a bare Python), the call still succeeds, shows nothing, and returns
the value, so the notebook runs the same everywhere.
"""

try:
    from myst_nb import glue as _myst_glue
except ImportError:  # pragma: no cover - exercised only where myst-nb is absent
    _myst_glue = None


def glue(name, value, fmt=None):
    """Store ``value`` under ``name`` for the prose; return ``value``.

    name:  key used in the markdown, ``{glue:text}`name```.
    value: any number, string or figure.
    fmt:   optional format string such as ``"{:.2f}"``; a formatted string is glued,
           so the page shows exactly the digits the text means.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue name must be a non-empty string; got {name!r}")
    # A string is stored as its repr, which myst-nb reads back with literal_eval: the page
    # shows exactly these digits, without quotes.
    shown = fmt.format(value) if fmt is not None else value
    if _myst_glue is not None:
        _myst_glue(name, shown, display=False)
    return value
