import io
import re
from urllib.parse import unquote

import matplotlib

matplotlib.use("Agg")

import matplotlib.mathtext  # noqa: E402
import matplotlib.ticker  # noqa: E402

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


@pytest.fixture(autouse=True)
def _restore_rcparams():
    """use_house_style() changes matplotlib's global settings; each test gets them back."""
    with matplotlib.rc_context():
        yield
    plt.close("all")


def test_house_style_sets_the_colour_blind_cycle():
    plotting.use_house_style()
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert [c.lower() for c in colours] == [c.lower() for c in plotting.CYCLE]


# Every rcParam that sets the size of a text (relative sizes such as "large" scale font.size).
FONT_SIZE_KEYS = ["font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
                  "ytick.labelsize", "legend.fontsize", "legend.title_fontsize",
                  "figure.titlesize", "figure.labelsize"]


def text_sizes_in_points():
    """Each of FONT_SIZE_KEYS, in points."""
    from matplotlib.font_manager import FontProperties
    return {key: FontProperties(size=matplotlib.rcParams[key]).get_size_in_points()
            for key in FONT_SIZE_KEYS}


def test_house_style_sets_no_text_below_the_minimum():
    plotting.use_house_style()
    sizes = text_sizes_in_points()
    small = {k: v for k, v in sizes.items() if v < plotting.MIN_FONT_PT}
    assert not small, f"house style sizes below {plotting.MIN_FONT_PT} pt: {small}"


def test_a_figure_asking_for_small_text_fails_when_drawn():
    plotting.use_house_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend(fontsize=7)
    with pytest.raises(ValueError, match=r"minimum of 9 pt: 'a line' \(7 pt\).*legend_outside"):
        fig.savefig(io.BytesIO(), format="svg")


def test_house_style_figures_pass_the_check():
    plotting.use_house_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label=r"$\rho(W)^k$")
    ax.set_title("a title")
    plotting.label_axes(ax, "lag $k$", "norm")
    ax.legend()
    fig.savefig(io.BytesIO(), format="svg")   # no error
    assert plotting.check_legible(fig) is fig


def test_check_legible_ignores_hidden_and_empty_text():
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "hidden", fontsize=5).set_visible(False)
    ax.text(0.5, 0.5, "  ", fontsize=5)
    plotting.check_legible(fig)
    ax.text(0.2, 0.2, "shown", fontsize=5)
    with pytest.raises(ValueError, match="'shown' \\(5 pt\\)"):
        plotting.check_legible(fig)


def test_legend_outside_covers_no_data():
    plotting.use_house_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="one")
    ax.plot([0, 1], [1, 0], label="two")
    legend = plotting.legend_outside(ax, title="lines")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 > ax.get_window_extent(renderer).x1
    assert legend.get_title().get_text() == "lines"


def test_use_house_style_asks_a_kernel_for_svg_figures(monkeypatch):
    inline = pytest.importorskip("matplotlib_inline.backend_inline")
    ipython = pytest.importorskip("IPython")
    monkeypatch.setattr(ipython, "get_ipython", lambda: object())
    config = inline.InlineBackend.instance()
    monkeypatch.setattr(config, "figure_formats", {"png"})
    monkeypatch.setattr(config, "_update_figure_formatters", lambda *a, **k: None, raising=False)
    plotting.use_house_style()
    assert config.figure_formats == {plotting.FIGURE_FORMAT} == {"svg"}


def test_log_tick_labels_are_plain_text_powers_of_ten():
    formatter = plotting.PowerOfTenFormatter(10)
    assert [formatter(x) for x in (1e-20, 1e-5, 1, 10, 1e12)] == ["10⁻²⁰", "10⁻⁵", "10⁰", "10¹", "10¹²"]
    decades = plotting.PowerOfTenFormatter(10, labelOnlyBase=True)
    assert decades(2e-3) == "" and decades(1e-3) == "10⁻³"  # blank between decades, as matplotlib's
    every = plotting.PowerOfTenFormatter(10, labelOnlyBase=False)
    assert [every(x) for x in (2e-3, 5e2, 3)] == ["2×10⁻³", "5×10²", "3×10⁰"]
    assert every(0) == "0"


def test_house_style_log_axes_label_the_same_ticks_without_formulas(monkeypatch):
    def labels(fig, ax):
        fig.canvas.draw()
        return [(t.get_position(), t.get_text()) for t in ax.get_yticklabels() if t.get_text()]

    x = np.arange(1, 41)
    fig, ax = plt.subplots()
    ax.semilogy(x, np.logspace(-20, 20, 40))
    # matplotlib's own labels, whichever log scale is registered now
    ax.yaxis.set_major_formatter(matplotlib.ticker.LogFormatterSciNotation())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.LogFormatterSciNotation(labelOnlyBase=False))
    matplotlib_labels = labels(fig, ax)
    assert all(text.startswith("$") for _, text in matplotlib_labels)
    plotting.use_house_style()
    fig, ax = plt.subplots()
    ax.semilogy(x, np.logspace(-20, 20, 40))
    plotting.label_axes(ax, "step", "norm")

    typeset = []
    parse = matplotlib.mathtext.MathTextParser.parse
    monkeypatch.setattr(matplotlib.mathtext.MathTextParser, "parse",
                        lambda self, s, *args, **kwargs: typeset.append(s) or parse(self, s, *args, **kwargs))
    house_labels = labels(fig, ax)
    fig.savefig(io.BytesIO(), format="svg")
    assert not typeset, f"a log axis typeset formulas: {typeset[:5]}"
    assert [position for position, _ in house_labels] == [position for position, _ in matplotlib_labels]
    assert [text for _, text in house_labels] == [
        re.sub(r"\$\\mathdefault\{10\^\{(-?\d+)\}\}\$", lambda m: "10" + m.group(1).translate(
            str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")), text) for _, text in matplotlib_labels]


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


def frame_sources(page):
    return re.findall(r'<img src="([^"]*)"', page)


def test_sweep_embeds_one_described_vector_frame_per_value():
    comp = companion.sweep(draw, [1, 2, 3], label="slope", alt="A line of slope {value}", start=1)
    page = comp._repr_html_()
    assert comp.n_frames == 3
    sources = frame_sources(page)
    assert len(sources) == 3 and len(set(sources)) == 3
    for source in sources:
        assert source.startswith("data:image/svg+xml;charset=utf-8,%3C")
        svg = unquote(source.split(",", 1)[1])
        assert svg.rstrip().endswith("</svg>") and '"' not in source and "#" not in source
    for v in (1, 2, 3):
        assert f'alt="A line of slope {v}"' in page
    assert page.count("display:none") == 2  # only the start frame is visible
    assert 'type="range" min="0" max="2" step="1" value="1"' in page
    # self-contained: nothing is fetched (the SVG's xmlns and RDF names are not fetched)
    assert "http" not in re.sub(r'src="data:[^"]*"', "", page)
    for source in sources:
        assert not re.search(r'(href|src)="https?:|url\(https?:', unquote(source))


def test_sweep_frames_have_their_display_size():
    page = companion.sweep(draw, [1, 2], label="s", alt="a {value}", figsize=(6, 3))._repr_html_()
    for width, height in re.findall(r'<img [^>]*width="(\d+)" height="(\d+)"', page):
        # 6 x 3 inches at 96 CSS px to the inch, less what the tight bounding box trims
        assert 400 < int(width) <= 6 * 96 and 200 < int(height) <= 3 * 96


def test_sweep_frames_share_one_size_and_cut_nothing():
    def growing(ax, value):
        ax.plot([0, 1], [0, value], label="a line")
        plotting.label_axes(ax, "x", "y" * value)      # a longer label in later frames
        plotting.legend_outside(ax)
    plotting.use_house_style()
    page = companion.sweep(growing, [1, 20, 40], label="s", alt="a {value}")._repr_html_()
    sizes = set(re.findall(r'<img [^>]*width="(\d+)" height="(\d+)"', page))
    assert len(sizes) == 1, f"frames differ in size: {sizes}"
    # the union box holds the widest frame's legend and label: wider than the axes alone
    width = int(sizes.pop()[0])
    assert width > 6.4 * 96


def test_sweep_slider_is_a_touch_target_that_announces_its_value():
    page = companion.sweep(draw, [0.5, 1.0, 2.0], label="scale of W", alt="a {value}",
                           fmt="{:.1f}", start=2)._repr_html_()
    slider = re.search(r"<input [^>]*>", page).group(0)
    assert 'aria-label="scale of W"' in slider
    assert 'aria-valuetext="2.0"' in slider  # the value shown, not the frame index
    height = int(re.search(r"height:(\d+)px", slider).group(1))
    assert height >= 24
    assert "setAttribute('aria-valuetext',t)" in slider  # kept in step when the slider moves


def test_sweep_refuses_small_text():
    def tiny(ax, value):
        ax.plot([0, 1], [0, value], label="tiny")
        ax.legend(fontsize=6)
    with pytest.raises(ValueError, match="'tiny' \\(6 pt\\)"):
        companion.sweep(tiny, [1, 2], label="s", alt="a {value}")


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
