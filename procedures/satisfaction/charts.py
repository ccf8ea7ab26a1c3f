"""The survey's charts (forms.charts): mean expectation vs experience per indicator, the importance ×
satisfaction quadrant and the index trend — drawn from a version's data (the report PDF) or from the
results as they stand (the results page)."""
from forms.charts import bar_chart_svg, scatter_svg, trend_svg

from .results import QUADRANT_LABELS


def _name(row):
    return f"{row['name_zh']} {row['name_en']}"


def gap_chart(results):
    rows = [r for r in results.get("indicators", []) if r.get("answered")]
    months = [_name(r) for r in rows]
    return trend_svg(months, {"期望 Expectation": [r["mean_expectation"] for r in rows],
                              "感受 Experience": [r["mean_experience"] for r in rows]},
                     title="期望与感受 Expectation and experience", kind="columns")


def satisfaction_bars(results):
    rows = [r for r in results.get("indicators", []) if r.get("answered")]
    return bar_chart_svg([(_name(r), r["satisfaction"]) for r in rows],
                         title="各指标满意度 Satisfaction per indicator (0–100)", x_label="0–100")


def quadrant_chart(results):
    rows = [r for r in results.get("indicators", []) if r.get("answered")]
    if not rows:
        return ""
    mean_w = results.get("mean_weight") or 0
    mean_s = results.get("mean_satisfaction") or 0
    weights = [r["weight"] for r in rows]
    # centre the quadrant lines on the means: scatter_svg draws them at the middle of the ranges
    span_w = max(abs(w - mean_w) for w in weights) or 1
    span_s = max(abs(r["satisfaction"] - mean_s) for r in rows) or 1
    labels = [" ".join(QUADRANT_LABELS[k]) for k in ("overkill", "keep", "low_priority", "improve_first")]
    return scatter_svg([(_name(r), r["weight"], r["satisfaction"]) for r in rows],
                       x_label="重要度 Importance (weight)", y_label="满意度 Satisfaction (0–100)",
                       x_range=(mean_w - span_w * 1.3, mean_w + span_w * 1.3),
                       y_range=(mean_s - span_s * 1.3, mean_s + span_s * 1.3),
                       quadrant_labels=labels, title="重要度 × 满意度 Importance × satisfaction")


def trend_chart(points):
    points = [p for p in points if p.get("index") is not None]
    if len(points) < 2:
        return ""
    return trend_svg([p["number"] for p in points], {"满意度指数 Satisfaction index": [p["index"] for p in points]},
                     title="满意度指数趋势 Satisfaction index trend", kind="lines")


def report_charts(data):
    """The PDF's charts from a version's data."""
    results = data.get("results") or {}
    trend = list(data.get("trend") or [])
    if data.get("record_number") and results.get("index") is not None:
        trend = trend + [{"number": data["record_number"], "index": results["index"]}]
    if not results.get("indicators"):
        return {"gap_chart": "", "quadrant_chart": "", "trend_chart": "", "bars_chart": ""}
    return {"gap_chart": gap_chart(results), "quadrant_chart": quadrant_chart(results),
            "trend_chart": trend_chart(trend), "bars_chart": satisfaction_bars(results)}
