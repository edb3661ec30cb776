"""A parameter sweep as a figure the static website can explore without a kernel.

An ipywidgets slider needs a running kernel; on the website it is dead. Its companion
renders the same figure for every value of the parameter ahead of time and embeds the
frames in the page with a slider of its own (plain HTML and a line of JavaScript, no
external resources). Each frame carries alt text that says what it shows.

    from vanishgrad.companion import sweep
    sweep(draw, values=[0.5, 1.0, 2.0], label="scale of W",
          alt="Gradient norm against time step for scale of W = {value}")

where ``draw(ax, value)`` draws one frame onto an empty axes.

The frames follow the house style (:mod:`vanishgrad.plotting`): vector graphics (SVG),
sharp on any screen and at any zoom, and checked for text below ``plotting.MIN_FONT_PT``. The slider is a touch target
at least 24 px tall, and a screen reader announces the value it shows
(``aria-valuetext``), not the frame's index.
"""

import html
import io
import itertools
import json
import re
from urllib.parse import quote

import matplotlib.pyplot as plt
from matplotlib.transforms import Bbox

from vanishgrad import plotting

_ids = itertools.count()

#: The slider's height in CSS pixels: the minimum size of a touch target (WCAG 2.5.8).
SLIDER_HEIGHT_PX = 24


class Companion:
    """The HTML of a sweep; notebooks and the website display it through ``_repr_html_``."""

    def __init__(self, html_text, n_frames):
        self.html = html_text
        self.n_frames = n_frames

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return f"<Companion: {self.n_frames} frames>"


# Characters left as they are in a frame's data: URI. Everything else is percent-encoded,
# among them '"' (the URI sits in a double-quoted attribute), '%', '#', '&', '<' and '>'.
_URI_SAFE = " /:;=,.-_()'!*~+"


def _common_box(figures):
    """The smallest box, in inches, that holds every figure's drawing (with the usual pad).

    Saved with it, every frame has the same size, so the page does not jump as the slider
    moves, and nothing a frame draws outside its axes (a legend, a long label) is cut.
    """
    boxes = []
    for fig in figures:
        fig.draw_without_rendering()  # lays the figure out; only the layout matters here
        boxes.append(fig.get_tightbbox(fig.canvas.get_renderer()))
    return Bbox.union(boxes).padded(plt.rcParams["savefig.pad_inches"])


def _svg(fig, box):
    """The figure as an SVG data: URI, with its size in CSS pixels: (uri, width, height).

    box: the part of the figure to save (a Bbox in inches), or None for all of it.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches=box, metadata={"Date": None})
    text = buffer.getvalue().decode("utf-8")
    # matplotlib sizes the drawing in points; a CSS pixel is 3/4 of a point
    width, height = (float(v) * 4 / 3 for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', text).groups())
    return "data:image/svg+xml;charset=utf-8," + quote(text, safe=_URI_SAFE), round(width), round(height)


def sweep(draw, values, *, label, alt, fmt="{}", start=0, figsize=None):
    """Render ``draw(ax, value)`` for each value; return a scrubbable :class:`Companion`.

    draw:    callable(ax, value) drawing one frame; it labels its own axes.
    values:  the parameter values, one frame each (at least 2).
    label:   the parameter's name, shown beside the slider (mathtext is not typeset here:
             write symbols as text, e.g. "spectral radius ρ(W)").
    alt:     alt text for a frame; ``{value}`` in it is replaced by the formatted value.
    fmt:     format of a value in the slider's readout, its aria-valuetext and the alt text.
    start:   index of the frame shown first.
    figsize: (width, height) in inches; the house style's default if None.

    Every frame is saved with the same bounding box: the union of the frames' tight boxes
    (with ``savefig.bbox: "tight"``, the house style's), or the whole figure otherwise.
    """
    values = list(values)
    if len(values) < 2:
        raise ValueError(f"a sweep needs at least 2 values; got {len(values)}")
    if not (isinstance(label, str) and label.strip() and isinstance(alt, str) and alt.strip()):
        raise ValueError("label and alt must be non-empty strings: the alt text describes the figure")
    if not 0 <= start < len(values):
        raise ValueError(f"start must index one of the {len(values)} values; got {start}")
    shown = [fmt.format(v) for v in values]
    figures = []
    try:
        for value in values:
            fig, ax = plt.subplots(figsize=figsize)
            figures.append(fig)
            draw(ax, value)
            plotting.check_legible(fig)  # also where the house style's check is not on
        box = _common_box(figures) if plt.rcParams["savefig.bbox"] == "tight" else None
        frames = [_svg(fig, box) for fig in figures]
    finally:
        for fig in figures:
            plt.close(fig)

    uid = f"vg-companion-{next(_ids)}"
    images = "\n".join(
        f'<img src="{uri}" alt="{html.escape(alt.format(value=text))}" width="{w}" height="{h}" '
        f'data-frame="{i}" style="max-width:100%;height:auto;{"" if i == start else "display:none"}">'
        for i, ((uri, w, h), text) in enumerate(zip(frames, shown))
    )
    readouts = html.escape(json.dumps(shown))
    script = (
        "var f=this.closest('figure'),i=+this.value,t=JSON.parse(this.dataset.readouts)[i];"
        "f.querySelectorAll('img[data-frame]').forEach(function(m){"
        "m.style.display=(+m.dataset.frame===i)?'':'none';});"
        "f.querySelector('output').textContent=t;this.setAttribute('aria-valuetext',t);"
    )
    page = (
        f'<figure class="vg-companion" id="{uid}">\n{images}\n'
        f'<figcaption><label>{html.escape(label)}: '
        f'<input type="range" min="0" max="{len(values) - 1}" step="1" value="{start}" '
        f'aria-label="{html.escape(label)}" aria-valuetext="{html.escape(shown[start])}" '
        f'data-readouts="{readouts}" oninput="{script}" '
        f'style="height:{SLIDER_HEIGHT_PX}px;width:16em;max-width:60%;vertical-align:middle;margin:0 0.5em"> '
        f"<output>{html.escape(shown[start])}</output></label></figcaption>\n</figure>"
    )
    return Companion(page, len(values))
