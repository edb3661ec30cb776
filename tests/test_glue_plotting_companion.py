import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vanishgrad import companion, glue, plotting  # noqa: E402


def test_glue_returns_the_value():
    assert glue.glue("answer", 0.25, "{:.2f}") == 0.25
    with pytest.raises(ValueError, match="non-empty string"):
        glue.glue("", 1)


def test_glue_works_without_myst_nb(monkeypatch):
    monkeypatch.setattr(glue, "_myst_glue", None)
    assert glue.glue("x", 3) == 3


def test_house_style_sets_the_colour_blind_cycle():
    plotting.use_house_style()
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert [c.lower() for c in colours] == [c.lower() for c in plotting.CYCLE]


def test_axes_must_be_labelled():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="xlabel must be a non-empty string"):
        plotting.label_axes(ax, "", "y")
    plotting.gradient_norm_axes(ax, "layer l")
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "layer l"
    plt.close(fig)


def test_finite_positive_masks_what_a_log_axis_cannot_show():
    masked = plotting.finite_positive([1.0, 0.0, -1.0, np.nan, np.inf, 2.0])
    assert list(masked.mask) == [False, True, True, True, True, False]


def draw(ax, value):
    ax.plot([0, 1], [0, value])
    plotting.label_axes(ax, "x", "y")


def test_sweep_embeds_one_described_frame_per_value():
    comp = companion.sweep(draw, [1, 2, 3], label="slope", alt="A line of slope {value}", start=1)
    html = comp._repr_html_()
    assert comp.n_frames == 3
    assert html.count('<img src="data:image/png;base64,') == 3
    for v in (1, 2, 3):
        assert f'alt="A line of slope {v}"' in html
    assert html.count("display:none") == 2  # only the start frame is visible
    assert 'type="range" min="0" max="2" step="1" value="1"' in html
    assert "http" not in html  # self-contained: no external resources


def test_sweep_refuses_bad_arguments():
    with pytest.raises(ValueError, match="at least 2 values"):
        companion.sweep(draw, [1], label="s", alt="a")
    with pytest.raises(ValueError, match="alt"):
        companion.sweep(draw, [1, 2], label="s", alt=" ")
    with pytest.raises(ValueError, match="start"):
        companion.sweep(draw, [1, 2], label="s", alt="a", start=2)


def test_glued_digits_reach_the_page_exactly():
    # myst-nb renders {glue:text} from the text/plain repr through format_plain_text.
    format_plain_text = pytest.importorskip("myst_nb.core.variables").format_plain_text
    for value, fmt, shown in [(0.9, "{:.4f}", "0.9000"), (5e12, "{:.0e}", "5e+12"), (3, "{:d}", "3")]:
        text = fmt.format(value)
        assert text == shown
        assert format_plain_text(repr(text), "") == shown
