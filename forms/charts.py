"""The one chart module every procedure uses: matplotlib (object API, no pyplot state) drawn
to SVG text that embeds inline in HTML pages and WeasyPrint PDFs.

- Text stays text (``svg.fonttype = "none"``) in the project's CJK font, so the PDF embeds the
  font and ``pdftotext`` reads the labels; ``$`` in a label is not parsed as mathtext.
- The returned string has no XML prolog/DOCTYPE/metadata; the ``<svg>`` carries
  ``class="qms-chart"``, ``role="img"``, an ``aria-label`` and a ``<title>``, ``width="100%"``
  and its ``viewBox`` so it scales down on a phone.
- Output is deterministic: the same data gives the same bytes (records are hashed). The ids
  inside a chart are salted with a hash of the chart's data, so two different charts on one
  page do not share ids.
- Empty data gives a "no data" chart, not an exception.

rcParams are global in matplotlib, so each drawing runs inside ``rc_context`` under a lock: safe
in threaded gunicorn workers and Celery.
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
import threading
from html import escape

import matplotlib

if "matplotlib.pyplot" not in sys.modules:  # never switch the backend under a running pyplot
    matplotlib.use("Agg")

from django.conf import settings
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

NO_DATA = "无数据 No data"
OTHERS = "其他 Others"
PALETTE = ("#3b6ea5", "#d9822b", "#5a9e4b", "#b8474a", "#7b5ea7", "#8c6d46", "#c45a9c", "#6b6b6b")
LINE_COLOUR = "#b8474a"
CLASS_COLOURS = {"A": "#e06666", "B": "#f6b26b", "C": "#ffe599", "D": "#b6d7a8"}
MAX_LABEL = 34
WIDTH_IN = 6.4  # ≈ the text width of an A4 record PDF

_lock = threading.RLock()


def _font_families():
    qms = getattr(settings, "QMS", {}) if settings.configured else {}
    first = qms.get("PDF_FONT_FAMILY", "Noto Sans CJK SC")
    return [f for f in dict.fromkeys([first, "Noto Sans CJK SC", "DejaVu Sans"]) if f]


def _rc():
    return {
        "svg.fonttype": "none",
        "font.family": "sans-serif",
        "font.sans-serif": _font_families(),
        "font.size": 9,
        "axes.unicode_minus": False,
        "text.parse_math": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.image_inline": True,
    }


def _short(label, limit=MAX_LABEL):
    text = str(label)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value):
    value = float(value or 0)
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def _render(kind, title, data, draw, *, height_in):
    """Draw with ``draw(fig)`` and return the cleaned, deterministic SVG string."""
    salt = hashlib.sha256(repr((kind, title, data)).encode()).hexdigest()[:16]
    with _lock, matplotlib.rc_context({**_rc(), "svg.hashsalt": salt}):
        fig = Figure(figsize=(WIDTH_IN, height_in), dpi=72)
        empty = draw(fig) is EMPTY
        if title:
            fig.suptitle(title, fontsize=10.5, fontweight="bold", y=0.95 if empty else 0.98)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
                    **({} if empty else {"bbox_inches": "tight", "pad_inches": 0.08}))
    return _clean(buffer.getvalue(), title)


def _clean(svg, title):
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    used = set(re.findall(r"#([\w.-]+)", svg))  # ids a href/url() points at; the rest would repeat per chart
    svg = re.sub(r'\sid="([^"]*)"', lambda m: m.group(0) if m.group(1) in used else "", svg)
    # An inline <style> would be page-global and is refused by the pages' CSP (style-src has a nonce): its
    # defaults go on the root as inherited attributes, and style="…" becomes presentation attributes.
    svg = re.sub(r"\s*<defs>\s*<style[^>]*>.*?</style>\s*</defs>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\sstyle="([^"]*)"', _presentation, svg)
    label = escape(title or "chart", quote=True)

    def root(match):
        attrs = re.sub(r'\s(width|height)="[^"]*"', "", match.group(1))
        box = re.search(r'viewBox="[\d.\s]+ ([\d.]+) ([\d.]+)"', attrs)
        style = f' style="max-width: {box.group(1)}pt; height: auto"' if box else ""
        return (f'<svg{attrs} width="100%"{style} class="qms-chart" role="img" aria-label="{label}" '
                f'stroke-linejoin="round" stroke-linecap="butt">'
                f"<title>{label}</title>")

    svg = re.sub(r"<svg([^>]*)>", root, svg, count=1)
    return svg.strip() + "\n"


EMPTY = object()


PRESENTATION = frozenset((
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linejoin",
    "stroke-linecap", "stroke-dasharray", "stroke-dashoffset", "stroke-miterlimit", "opacity", "text-anchor",
    "font-size", "font-family", "font-weight", "font-style", "clip-path", "dominant-baseline"))


def _presentation(match):
    """style="fill: #fff; stroke: none" → fill="#fff" stroke="none" (what is not a presentation attribute stays)."""
    attrs, rest = [], []
    for declaration in filter(None, (d.strip() for d in match.group(1).split(";"))):
        name, _, value = (part.strip() for part in declaration.partition(":"))
        if name in PRESENTATION:
            attrs.append(f' {name}="{value}"')
        else:
            rest.append(f"{name}: {value}")
    return "".join(attrs) + (f' style="{"; ".join(rest)}"' if rest else "")


def _no_data(fig):
    """A small frame saying there is no data (drawn instead of the chart)."""
    fig.set_size_inches(WIDTH_IN, 1.1)
    fig.patch.set_edgecolor("#cccccc")
    fig.patch.set_linewidth(1)
    fig.text(0.5, 0.4, NO_DATA, ha="center", va="center", fontsize=11, color="#777777")
    return EMPTY


# --- the charts ---------------------------------------------------------------------------------------------


def bar_chart_svg(items, *, title="", x_label=""):
    """Horizontal bars, first item on top; ``items`` = [(label, value)]."""
    items = [(str(label), float(value or 0)) for label, value in items]

    def draw(fig):
        if not items:
            return _no_data(fig)
        ax = fig.add_subplot()
        positions = range(len(items))
        values = [v for _, v in items]
        bars = ax.barh(positions, values, color=PALETTE[0], height=0.7)
        ax.set_yticks(list(positions), [_short(label) for label, _ in items])
        ax.invert_yaxis()
        ax.bar_label(bars, labels=[_num(v) for v in values], padding=3, fontsize=8)
        ax.set_xlim(0, (max(values) or 1) * 1.12)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if x_label:
            ax.set_xlabel(x_label)

    return _render("bar", title, items, draw, height_in=_rows_height(len(items)))


def pareto_svg(items, *, title="", y_label="", max_bars=10):
    """A Pareto chart: bars sorted descending, cumulative % line on a second axis and an 80 % line.
    Beyond ``max_bars`` the rest are summed into one "Others" bar (the cumulative line still ends at 100 %)."""
    items = sorted(((str(label), float(value or 0)) for label, value in items), key=lambda i: -i[1])
    if len(items) > max_bars:
        items = items[: max_bars - 1] + [(OTHERS, sum(v for _, v in items[max_bars - 1:]))]

    def draw(fig):
        total = sum(v for _, v in items)
        if not items or not total:
            return _no_data(fig)
        ax = fig.add_subplot()
        positions = list(range(len(items)))
        values = [v for _, v in items]
        bars = ax.bar(positions, values, color=PALETTE[0], width=0.7)
        ax.bar_label(bars, labels=[_num(v) for v in values], padding=2, fontsize=8)
        ax.set_xticks(positions, [_short(label, 18) for label, _ in items], rotation=30, ha="right",
                      rotation_mode="anchor")
        ax.set_ylim(0, max(values) * 1.15)
        ax.yaxis.get_major_locator().set_params(integer=True)
        if y_label:
            ax.set_ylabel(y_label)
        cumulative, running = [], 0.0
        for v in values:
            running += v
            cumulative.append(100 * running / total)
        ax2 = ax.twinx()
        ax2.spines["right"].set_visible(True)
        ax2.plot(positions, cumulative, color=LINE_COLOUR, marker="o", markersize=4, linewidth=1.5)
        for x, y in zip(positions, cumulative, strict=True):
            ax2.annotate(f"{y:.0f}%", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7,
                         color=LINE_COLOUR, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                                  "alpha": 0.85})
        ax2.axhline(80, color="#888888", linestyle="--", linewidth=0.8)
        ax2.set_ylim(0, 110)
        ax2.set_yticks([0, 20, 40, 60, 80, 100], ["0%", "20%", "40%", "60%", "80%", "100%"])
        ax2.set_ylabel("累计 Cumulative %")

    return _render("pareto", title, items, draw, height_in=3.4)


def trend_svg(months, series, *, title="", kind="columns"):
    """Values by month: ``series`` = {name: [value per month]}, drawn as grouped columns
    (``kind="columns"``) or lines (``kind="lines"``), with a legend."""
    months = [str(m) for m in months]
    series = {str(name): [float(v or 0) for v in values] for name, values in series.items()}
    for name, values in series.items():
        if len(values) != len(months):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(months)} months")

    def draw(fig):
        if not months or not series:
            return _no_data(fig)
        ax = fig.add_subplot()
        positions = list(range(len(months)))
        width = 0.8 / len(series)
        for index, (name, values) in enumerate(series.items()):
            colour = PALETTE[index % len(PALETTE)]
            if kind == "lines":
                ax.plot(positions, values, marker="o", markersize=3.5, color=colour, label=name)
            else:
                offset = (index - (len(series) - 1) / 2) * width
                bars = ax.bar([p + offset for p in positions], values, width=width * 0.95, color=colour, label=name)
                ax.bar_label(bars, labels=[_num(v) if v else "" for v in values], padding=1, fontsize=7)
        ax.set_xticks(positions, months, rotation=45 if len(months) > 8 else 0,
                      ha="right" if len(months) > 8 else "center", rotation_mode="anchor")
        peak = max((max(v) for v in series.values() if v), default=0)
        ax.set_ylim(0, (peak or 1) * 1.3)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="upper left", frameon=False, ncols=min(len(series), 4), fontsize=8)

    return _render("trend", title, (months, series, kind), draw, height_in=2.8)


def scatter_svg(points, *, x_label, y_label, x_range=(0, 1), y_range=(-1, 0), quadrant_labels=None, title=""):
    """Labelled points [(label, x, y)] with quadrant lines at the midpoints of the ranges and optional
    quadrant labels (top-left, top-right, bottom-left, bottom-right) — e.g. the KANO Better–Worse plot."""
    points = [(str(label), float(x), float(y)) for label, x, y in points]
    quadrant_labels = list(quadrant_labels or [])
    if quadrant_labels and len(quadrant_labels) != 4:
        raise ValueError("quadrant_labels needs 4 labels: top-left, top-right, bottom-left, bottom-right")

    def draw(fig):
        ax = fig.add_subplot()
        (x0, x1), (y0, y1) = sorted(x_range), sorted(y_range)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        ax.axvline(xm, color="#888888", linewidth=0.8, linestyle="--")
        ax.axhline(ym, color="#888888", linewidth=0.8, linestyle="--")
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.spines["top"].set_visible(True)
        ax.spines["right"].set_visible(True)
        corners = ((0.02, 0.97, "left", "top"), (0.98, 0.97, "right", "top"),
                   (0.02, 0.03, "left", "bottom"), (0.98, 0.03, "right", "bottom"))
        for text, (cx, cy, ha, va) in zip(quadrant_labels, corners, strict=False):
            ax.text(cx, cy, str(text), transform=ax.transAxes, ha=ha, va=va, fontsize=9, color="#8a8a8a",
                    fontweight="bold", zorder=1)
        if not points:
            ax.text(0.5, 0.5, NO_DATA, transform=ax.transAxes, ha="center", va="center", fontsize=11,
                    color="#777777")
            return
        ax.scatter([p[1] for p in points], [p[2] for p in points], s=28, color=PALETTE[0], zorder=3, clip_on=False)
        seen = {}
        for label, x, y in points:
            stack = seen[(round(x, 2), round(y, 2))] = seen.get((round(x, 2), round(y, 2)), -1) + 1
            right = x <= xm + (x1 - x0) * 0.3
            ax.annotate(_short(label, 24), (x, y), textcoords="offset points",
                        xytext=(5 if right else -5, 4 - 11 * stack), ha="left" if right else "right", fontsize=8,
                        zorder=4, bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})

    return _render("scatter", title, (points, x_label, y_label, tuple(x_range), tuple(y_range), quadrant_labels),
                   draw, height_in=4.2)


def grid_svg(rows, cols, cells, *, title="", x_label="", y_label=""):
    """A heat grid (e.g. importance × urgency). ``rows``/``cols`` are the axis labels (first row drawn on
    top) or just counts; ``cells`` = {(row, col): (text, class_letter)} keyed by the row/col label, or by
    the 0-based index when that is not a label. The class letter colours the cell (A red … D green) and is
    printed small in its corner; the text is printed in the middle."""
    rows = list(range(rows)) if isinstance(rows, int) else list(rows)
    cols = list(range(cols)) if isinstance(cols, int) else list(cols)

    def index(key, labels):
        if key in labels:
            return labels.index(key)
        if isinstance(key, int) and 0 <= key < len(labels):
            return key
        raise ValueError(f"{key!r} is neither a label nor an index of {labels!r}")

    placed = {}
    for (r, c), value in cells.items():
        text, letter = value if isinstance(value, (tuple, list)) else (value, "")
        placed[(index(r, rows), index(c, cols))] = (str(text if text is not None else ""), str(letter or ""))
    data = (rows, cols, sorted(placed.items()))

    def draw(fig):
        if not rows or not cols:
            return _no_data(fig)
        ax = fig.add_subplot()
        ax.set_xlim(0, len(cols))
        ax.set_ylim(len(rows), 0)
        ax.set_aspect("equal" if len(rows) == len(cols) else "auto")
        for ri in range(len(rows)):
            for ci in range(len(cols)):
                text, letter = placed.get((ri, ci), ("", ""))
                colour = CLASS_COLOURS.get(letter.upper(), "#f3f3f3")
                ax.add_patch(Rectangle((ci, ri), 1, 1, facecolor=colour, edgecolor="white",
                                                          linewidth=1.5))
                if letter:
                    ax.text(ci + 0.07, ri + 0.08, letter, ha="left", va="top", fontsize=7, color="#444444")
                if text:
                    ax.text(ci + 0.5, ri + 0.55, text, ha="center", va="center", fontsize=10)
        ax.set_xticks([c + 0.5 for c in range(len(cols))], [_short(c, 12) for c in cols])
        ax.set_yticks([r + 0.5 for r in range(len(rows))], [_short(r, 16) for r in rows])
        ax.tick_params(length=0)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        if x_label:
            ax.set_xlabel(x_label, labelpad=6)
        if y_label:
            ax.set_ylabel(y_label, labelpad=8)

    return _render("grid", title, data, draw, height_in=max(2.4, min(5.0, 0.75 * len(rows) + 1.2)))


def _rows_height(count):
    return max(1.4, min(7.5, 0.32 * count + 0.9))

