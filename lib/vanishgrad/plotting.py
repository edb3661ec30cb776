"""The house style: one look for every figure in the book.

- :data:`PALETTE` is Okabe & Ito's colour-blind-safe palette, also set as the default
  colour cycle, so lines stay distinguishable under the common colour-vision deficiencies.
- :func:`use_house_style` applies the look; every chapter calls it once at the top. It also
  makes a notebook's figures vector graphics (SVG), sharp on any screen, at any zoom and in
  print, and lighter than PNGs of twice the resolution: a chapter's figures weigh 1.1 to 1.5
  times their 100-dpi PNGs, where 200-dpi PNGs weigh 2.1 to 2.2 times as much.
- No text in a figure is smaller than :data:`MIN_FONT_PT`. The house style's sizes are above
  it, and :func:`check_legible` (run on every draw once the house style is on) raises if a
  figure asks for less, e.g. ``ax.legend(fontsize=7)``: in a notebook the error takes the
  figure's place, and the notebook tests and the website's browser test fail on it.
  A figure wider than the page column
  (about :data:`COLUMN_INCHES`) is shrunk to fit, and its text with it: prefer figures at
  most that wide, and stack panels rather than widen them.
- :func:`label_axes` insists on axis labels (with units where there are units).
- :func:`gradient_norm_axes` puts gradient norms where the book always puts them: on a log axis.
- :func:`legend_outside` puts a legend to the right of the axes, where it covers no data.
- A log axis labels its ticks in plain text, 10⁻⁵ with Unicode superscripts
  (:class:`PowerOfTenFormatter`), where matplotlib would typeset each label as a formula:
  the same labels, at a small part of the cost (typesetting one takes milliseconds, and a
  chapter's log axes hold hundreds).

Symbols in labels, titles and legends are typeset with matplotlib's mathtext, the same way
the prose typesets them: ``label=r"$\\rho(W)^k$"``, ``ax.set_xlabel(r"lag $k$")``; a caret or
an underscore outside ``$...$`` is printed literally.
"""

import re
import warnings

import matplotlib as mpl
import matplotlib.scale
import matplotlib.ticker
import numpy as np

PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: The cycle order: the most distinguishable pairs first.
CYCLE = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]

#: One colour per activation, the same in every chapter.
ACTIVATION_COLOURS = {
    "sigmoid": PALETTE["vermillion"],
    "tanh": PALETTE["blue"],
    "relu": PALETTE["green"],
    "identity": PALETTE["black"],
}

#: The smallest text a figure may hold, in points. An SVG figure is shown at 96 CSS pixels
#: to the inch, so a point is 1.33 px: 9 pt is 12 px on the page at full size.
MIN_FONT_PT = 9

#: The width of the website's text column at 1280 px, in inches of an SVG figure (about
#: 690 CSS pixels). A wider figure is shrunk to fit it, and its text with it.
COLUMN_INCHES = 7.2

#: The format of a notebook's inline figures, and of a companion's frames.
FIGURE_FORMAT = "svg"

HOUSE_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 200,   # a PNG saved by hand is sharp at twice its size
    "savefig.bbox": "tight",
    "svg.hashsalt": "vanishgrad",   # the same figure gives the same SVG, build after build
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "figure.titlesize": 12,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=CYCLE),
    "lines.linewidth": 1.8,
    # A legend inside the axes sits on a nearly opaque box, so a line that passes behind it
    # is hidden rather than tangled with its text; legend_outside() avoids the data altogether.
    "legend.frameon": True,
    "legend.framealpha": 0.9,
    "legend.edgecolor": "none",
    "image.cmap": "viridis",
    # every figure pyplot makes is checked for text below MIN_FONT_PT when it is drawn
    "figure.hooks": ["vanishgrad.plotting:watch_legibility"],
}


def use_house_style():
    """Apply the book's matplotlib style (idempotent).

    In a Jupyter kernel it also asks the inline backend for :data:`FIGURE_FORMAT` figures.
    Log axes made after it label their ticks with :class:`PowerOfTenFormatter`.
    """
    mpl.rcParams.update(HOUSE_STYLE)
    with warnings.catch_warnings():
        # matplotlib 3.11 asks new scales to drop the `axis` argument, which matplotlib
        # before 3.11 passes; LogScale's own (inherited here) takes it with a default,
        # so both call it correctly
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning, message=".*axis.*")
        matplotlib.scale.register_scale(PlainTextLogScale)
    _use_vector_inline_figures()


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_FORMULA = re.compile(r"\$\\mathdefault\{(.*)\}\$")
_POWER = re.compile(r"\^\{(-?\d+)\}")


class PowerOfTenFormatter(matplotlib.ticker.LogFormatterSciNotation):
    """matplotlib's log-axis tick labels, written as plain text instead of formulas.

    The same ticks get labels as with ``LogFormatterSciNotation``; only the writing
    changes: ``$\\mathdefault{10^{-5}}$`` becomes ``10⁻⁵`` and
    ``$\\mathdefault{2\\times10^{3}}$`` becomes ``2×10³``. A label of any other form is
    left as a formula.
    """

    def __call__(self, x, pos=None):
        label = super().__call__(x, pos)
        match = _FORMULA.fullmatch(label)
        if match is None:
            return label
        text = _POWER.sub(lambda power: power.group(1).translate(_SUPERSCRIPT), match.group(1))
        text = text.replace("\\times", "×")
        if re.search(r"[\\{}^$]", text):
            return label
        return text.replace("-", "−")  # a leading sign, as the formula would typeset it


class PlainTextLogScale(matplotlib.scale.LogScale):
    """The log scale, its tick labels written by :class:`PowerOfTenFormatter`.

    :func:`use_house_style` registers it under the name "log", so ``ax.set_yscale("log")``,
    ``semilogy`` and ``loglog`` use it.
    """

    name = "log"

    def set_default_locators_and_formatters(self, axis):
        super().set_default_locators_and_formatters(axis)
        axis.set_major_formatter(PowerOfTenFormatter(self.base))
        axis.set_minor_formatter(PowerOfTenFormatter(self.base, labelOnlyBase=(self.subs is not None)))


def _use_vector_inline_figures():
    """Inline figures as SVG, where IPython's inline backend is in use."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import InlineBackend
    except ImportError:  # plain Python: no inline figures
        return
    if get_ipython() is None:
        return
    # Setting the trait also updates the shell's display formatters; keeping it in the
    # backend's configuration means a later activation of the backend keeps it too.
    InlineBackend.instance().figure_formats = {FIGURE_FORMAT}


def check_legible(fig):
    """Raise ``ValueError`` if visible text in ``fig`` is smaller than :data:`MIN_FONT_PT`.

    Returns ``fig``. The error names every offending text and its size.
    """
    small = []
    for text in fig.findobj(mpl.text.Text):
        if text.get_visible() and text.get_text().strip() and text.get_fontsize() < MIN_FONT_PT:
            small.append(f"{text.get_text().strip()!r} ({text.get_fontsize():g} pt)")
    if small:
        raise ValueError(
            f"text smaller than the book's minimum of {MIN_FONT_PT} pt: {', '.join(small)}. "
            f"Drop the fontsize argument to use the house style's size, or pass at least "
            f"fontsize={MIN_FONT_PT}; to fit a legend, use plotting.legend_outside(ax)")
    return fig


def watch_legibility(fig):
    """Check ``fig`` with :func:`check_legible` each time it is drawn (a ``figure.hooks`` entry)."""
    fig.canvas.mpl_connect("draw_event", lambda event: check_legible(event.canvas.figure))


def label_axes(ax, xlabel, ylabel, title=None):
    """Label both axes (and optionally the title); empty labels are refused."""
    for what, text in (("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{what} must be a non-empty string: every axis in the book is labelled")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax


def gradient_norm_axes(ax, xlabel, ylabel="gradient norm", title=None):
    """A log-scaled y axis for gradient norms, labelled; returns ``ax``."""
    ax.set_yscale("log")
    return label_axes(ax, xlabel, ylabel, title)


def legend_outside(ax, **kwargs):
    """A legend to the right of ``ax``, top-aligned, where it cannot cover data; returns it.

    Keyword arguments go to ``ax.legend`` (``title=``, ``ncols=``, ...). The saved figure
    grows to hold the legend (the house style saves with a tight bounding box); make the
    figure a little narrower if the legend is long.
    """
    options = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0,
               "frameon": False}
    options.update(kwargs)
    return ax.legend(**options)


def finite_positive(values):
    """``values`` with non-positive or non-finite entries masked, ready for a log axis."""
    values = np.asarray(values, dtype=float)
    return np.ma.masked_where(~np.isfinite(values) | (values <= 0), values)
