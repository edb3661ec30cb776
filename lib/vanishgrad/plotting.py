"""The house style: one look for every figure in the book.

- :data:`PALETTE` is Okabe & Ito's colour-blind-safe palette, also set as the default
  colour cycle, so lines stay distinguishable under the common colour-vision deficiencies.
- :func:`use_house_style` applies the look; every chapter calls it once at the top.
- :func:`label_axes` insists on axis labels (with units where there are units).
- :func:`gradient_norm_axes` puts gradient norms where the book always puts them: on a log axis.
"""

import matplotlib as mpl
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

HOUSE_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=CYCLE),
    "lines.linewidth": 1.8,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_house_style():
    """Apply the book's matplotlib style (idempotent)."""
    mpl.rcParams.update(HOUSE_STYLE)


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


def finite_positive(values):
    """``values`` with non-positive or non-finite entries masked, ready for a log axis."""
    values = np.asarray(values, dtype=float)
    return np.ma.masked_where(~np.isfinite(values) | (values <= 0), values)
