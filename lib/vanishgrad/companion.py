"""A parameter sweep as a figure the static website can explore without a kernel.

An ipywidgets slider needs a running kernel; on the website it is dead. Its companion
renders the same figure for every value of the parameter ahead of time and embeds the
frames in the page with a slider of its own (plain HTML and a line of JavaScript, no
external resources). Each frame carries alt text that says what it shows.

    from vanishgrad.companion import sweep
    sweep(draw, values=[0.5, 1.0, 2.0], label="scale of W",
          alt="Gradient norm against time step for scale of W = {value}")

where ``draw(ax, value)`` draws one frame onto an empty axes.
"""

import base64
import html
import io
import itertools
import json

import matplotlib.pyplot as plt

_ids = itertools.count()


class Companion:
    """The HTML of a sweep; notebooks and the website display it through ``_repr_html_``."""

    def __init__(self, html_text, n_frames):
        self.html = html_text
        self.n_frames = n_frames

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return f"<Companion: {self.n_frames} frames>"


def _png(fig, dpi):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def sweep(draw, values, *, label, alt, fmt="{}", start=0, figsize=None, dpi=80):
    """Render ``draw(ax, value)`` for each value; return a scrubbable :class:`Companion`.

    draw:    callable(ax, value) drawing one frame; it labels its own axes.
    values:  the parameter values, one frame each (at least 2).
    label:   the parameter's name, shown beside the slider.
    alt:     alt text for a frame; ``{value}`` in it is replaced by the formatted value.
    fmt:     format of a value in the slider's readout and the alt text.
    start:   index of the frame shown first.
    figsize: (width, height) in inches; the house style's default if None.
    """
    values = list(values)
    if len(values) < 2:
        raise ValueError(f"a sweep needs at least 2 values; got {len(values)}")
    if not (isinstance(label, str) and label.strip() and isinstance(alt, str) and alt.strip()):
        raise ValueError("label and alt must be non-empty strings: the alt text describes the figure")
    if not 0 <= start < len(values):
        raise ValueError(f"start must index one of the {len(values)} values; got {start}")
    shown = [fmt.format(v) for v in values]
    frames = []
    for value in values:
        fig, ax = plt.subplots(figsize=figsize)
        draw(ax, value)
        frames.append(_png(fig, dpi))
        plt.close(fig)

    uid = f"vg-companion-{next(_ids)}"
    images = "\n".join(
        f'<img src="data:image/png;base64,{png}" alt="{html.escape(alt.format(value=text))}" '
        f'data-frame="{i}" style="max-width:100%;{"" if i == start else "display:none"}">'
        for i, (png, text) in enumerate(zip(frames, shown))
    )
    readouts = html.escape(json.dumps(shown))
    script = (
        "var f=this.closest('figure'),i=+this.value;"
        "f.querySelectorAll('img[data-frame]').forEach(function(m){"
        "m.style.display=(+m.dataset.frame===i)?'':'none';});"
        "f.querySelector('output').textContent=JSON.parse(this.dataset.readouts)[i];"
    )
    page = (
        f'<figure class="vg-companion" id="{uid}">\n{images}\n'
        f'<figcaption><label>{html.escape(label)}: '
        f'<input type="range" min="0" max="{len(values) - 1}" step="1" value="{start}" '
        f'data-readouts="{readouts}" oninput="{script}" aria-label="{html.escape(label)}"> '
        f"<output>{html.escape(shown[start])}</output></label></figcaption>\n</figure>"
    )
    return Companion(page, len(values))
