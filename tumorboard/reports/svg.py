"""Bar charts drawn as SVG on the server, for pages and slides.

One shape covers every chart of the report: categories (meetings, day ranges, outcomes) with one
stacked bar each, made of named series of counts, drawn upright (columns) or lying (bars). The SVG
is built with ElementTree, so every label is escaped; it holds no script, no style sheet and no
external reference, so the pages' strict Content-Security-Policy lets it through inline, and the same
file opens in a slide editor. It names itself for screen readers (role="img", a <title> and a <desc>),
and every bar segment carries its own <title>; pages also give each chart's data as a table.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

# Okabe and Ito's palette, distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
GREY = "#8C8C8C"
INK = "#1f2933"
MUTED = "#52606d"
LINE = "#d9e2ec"
FONT = "Helvetica, Arial, sans-serif"

WIDTH = 640
PLOT_HEIGHT = 200
HEADROOM = 18  # above the columns, for the total printed on the tallest
ROW_HEIGHT = 28
FONT_SIZE = 13
CHAR_WIDTH = 7.2  # average width of a 13 px character, to reserve room for labels
MAX_TICKS = 5


@dataclass(frozen=True, slots=True)
class Series:
    """One named part of every bar, with its count per category and its colour (None: the palette's)."""

    name: str
    values: tuple[int, ...]
    color: str | None = None


@dataclass(frozen=True, slots=True)
class Chart:
    """A stacked bar chart and the words around it."""

    key: str
    title: str
    summary: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    value_label: str
    category_label: str
    horizontal: bool = False

    @property
    def totals(self) -> tuple[int, ...]:
        """The height of each bar: the sum of its series."""
        return tuple(sum(s.values[i] for s in self.series) for i in range(len(self.categories)))

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not any(self.totals)

    def colors(self) -> list[str]:
        """Each series' colour: its own, else the palette's in turn."""
        return [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(self.series)]


def ticks(top: int) -> list[int]:
    """Whole-number axis ticks from 0 past `top`, at most MAX_TICKS steps of 1, 2 or 5 times a power of 10."""
    if top <= 0:
        return [0, 1]
    rough = top / MAX_TICKS
    power = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def render_svg(chart: Chart, *, caption: str | None = None) -> str:
    """The chart as an SVG document. With a caption (say, the board and the period), its title and the
    caption are drawn at the top, for a file that stands on its own on a slide."""
    heading = 52 if caption else 8
    legend = _legend_height(chart) if len(chart.series) > 1 else 0
    top = heading + legend
    height = top + _body_height(chart)
    root = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {WIDTH} {height}",
            "width": "100%",
            "role": "img",
            "aria-labelledby": f"chart-{chart.key}-title chart-{chart.key}-desc",
            "font-family": FONT,
            "font-size": str(FONT_SIZE),
            "class": "chart",
        },
    )
    ET.SubElement(root, "title", {"id": f"chart-{chart.key}-title"}).text = chart.title
    ET.SubElement(root, "desc", {"id": f"chart-{chart.key}-desc"}).text = chart.summary
    ET.SubElement(root, "rect", {"width": str(WIDTH), "height": str(height), "fill": "#ffffff"})
    if caption:
        _text(root, 16, 22, chart.title, size=16, weight="bold")
        _text(root, 16, 40, caption, fill=MUTED)
    if legend:
        _legend(root, chart, heading)
    if chart.empty:
        _text(root, WIDTH / 2, top + 44, "Nothing to show for this period", anchor="middle", fill=MUTED)
    elif chart.horizontal:
        _bars(root, chart, top)
    else:
        _columns(root, chart, top)
    return ET.tostring(root, encoding="unicode")


def _body_height(chart: Chart) -> int:
    if chart.empty:
        return 80
    if chart.horizontal:
        return len(chart.categories) * ROW_HEIGHT + 44
    return HEADROOM + PLOT_HEIGHT + _category_label_room(chart) + 30


def _legend_height(chart: Chart) -> int:
    return 22 * len(_legend_rows(chart))


def _legend_rows(chart: Chart) -> list[list[int]]:
    """Series indices per legend row, wrapping at the chart's width."""
    rows: list[list[int]] = [[]]
    used = 16.0
    for index, series in enumerate(chart.series):
        width = 22 + len(series.name) * CHAR_WIDTH + 18
        if rows[-1] and used + width > WIDTH - 16:
            rows.append([])
            used = 16.0
        rows[-1].append(index)
        used += width
    return rows


def _legend(root: ET.Element, chart: Chart, y: float) -> None:
    colors = chart.colors()
    for row_number, row in enumerate(_legend_rows(chart)):
        x = 16.0
        baseline = y + 14 + row_number * 22
        for index in row:
            _rect(root, x, baseline - 10, 12, 12, colors[index])
            _text(root, x + 18, baseline, chart.series[index].name)
            x += 22 + len(chart.series[index].name) * CHAR_WIDTH + 18


def _category_label_room(chart: Chart) -> int:
    """Room under the columns for their labels: slanted when there are many."""
    longest = max((len(c) for c in chart.categories), default=0)
    return int(longest * CHAR_WIDTH * 0.75) + 16 if _slanted(chart) else 20


def _slanted(chart: Chart) -> bool:
    """Whether the column labels must slant: some would not fit under their column standing straight."""
    if not chart.categories:
        return False
    band = (WIDTH - 72) / len(chart.categories)
    return max(len(c) for c in chart.categories) * CHAR_WIDTH > band * 0.95


def _columns(root: ET.Element, chart: Chart, top: float) -> None:
    """Upright stacked bars: categories along the bottom, counts up the side."""
    totals = chart.totals
    scale = ticks(max(totals))
    left, right = 56.0, WIDTH - 16.0  # the 72 of _slanted
    bottom = top + HEADROOM + PLOT_HEIGHT
    plot_width = right - left
    per_unit = PLOT_HEIGHT / scale[-1]
    for tick in scale:
        y = bottom - tick * per_unit
        _line(root, left, y, right, y, LINE if tick else MUTED)
        _text(root, left - 6, y + 4, str(tick), anchor="end", fill=MUTED)
    _text(root, 16, bottom - PLOT_HEIGHT / 2, chart.value_label, anchor="middle", fill=MUTED, rotate=-90)
    band = plot_width / len(chart.categories)
    width = min(band * 0.7, 56)
    label_every = math.ceil(len(chart.categories) / 24)
    colors = chart.colors()
    for i, category in enumerate(chart.categories):
        x = left + band * i + (band - width) / 2
        y = bottom
        for series, color in zip(chart.series, colors, strict=True):
            value = series.values[i]
            if value:
                height = value * per_unit
                y -= height
                segment = _rect(root, x, y, width, height, color)
                ET.SubElement(segment, "title").text = f"{category}, {series.name}: {value}"
        if totals[i] and len(chart.categories) <= 31:
            _text(root, x + width / 2, y - 4, str(totals[i]), anchor="middle")
        if i % label_every == 0:
            middle = x + width / 2
            if _slanted(chart):
                _text(root, middle, bottom + 14, category, anchor="end", rotate=-40, fill=MUTED)
            else:
                _text(root, middle, bottom + 16, category, anchor="middle", fill=MUTED)
    _text(
        root,
        left + plot_width / 2,
        bottom + _category_label_room(chart) + 22,
        chart.category_label,
        anchor="middle",
        fill=MUTED,
    )


def _bars(root: ET.Element, chart: Chart, top: float) -> None:
    """Lying stacked bars: one row per category, counts along the bottom."""
    longest = max(len(c) for c in chart.categories)
    left = min(16 + longest * CHAR_WIDTH + 8, WIDTH * 0.45)
    right = WIDTH - 48.0
    totals = chart.totals
    scale = ticks(max(totals))
    per_unit = (right - left) / scale[-1]
    bottom = top + len(chart.categories) * ROW_HEIGHT
    for tick in scale:
        x = left + tick * per_unit
        _line(root, x, top, x, bottom, LINE if tick else MUTED)
        _text(root, x, bottom + 16, str(tick), anchor="middle", fill=MUTED)
    _text(root, left + (right - left) / 2, bottom + 36, chart.value_label, anchor="middle", fill=MUTED)
    colors = chart.colors()
    for i, category in enumerate(chart.categories):
        y = top + i * ROW_HEIGHT + 5
        _text(root, left - 8, y + 12, category, anchor="end")
        x = left
        for series, color in zip(chart.series, colors, strict=True):
            value = series.values[i]
            if value:
                width = value * per_unit
                segment = _rect(root, x, y, width, ROW_HEIGHT - 10, color)
                ET.SubElement(segment, "title").text = f"{category}, {series.name}: {value}"
                x += width
        _text(root, x + 6, y + 12, str(totals[i]))


def _rect(root: ET.Element, x: float, y: float, width: float, height: float, fill: str) -> ET.Element:
    return ET.SubElement(
        root, "rect", {"x": _n(x), "y": _n(y), "width": _n(width), "height": _n(height), "fill": fill}
    )


def _line(root: ET.Element, x1: float, y1: float, x2: float, y2: float, stroke: str) -> None:
    ET.SubElement(root, "line", {"x1": _n(x1), "y1": _n(y1), "x2": _n(x2), "y2": _n(y2), "stroke": stroke})


def _text(
    root: ET.Element,
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int | None = None,
    weight: str | None = None,
    fill: str = INK,
    rotate: int | None = None,
) -> None:
    attributes = {"x": _n(x), "y": _n(y), "fill": fill, "text-anchor": anchor}
    if size:
        attributes["font-size"] = str(size)
    if weight:
        attributes["font-weight"] = weight
    if rotate:
        attributes["transform"] = f"rotate({rotate} {_n(x)} {_n(y)})"
    ET.SubElement(root, "text", attributes).text = content


def _n(value: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{value:.1f}".removesuffix(".0")
