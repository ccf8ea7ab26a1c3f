"""forms.charts (issue 16): every chart is matplotlib's SVG, inline-embeddable (no prolog, role="img",
a <title>, scales to the width), with its text as text in the project's CJK font, the same bytes for the
same data, and a "no data" chart for no data; the complaint analysis PDF draws its charts with it."""
import subprocess
import xml.etree.ElementTree as ET

import pytest
from test_p2_analysis import seeded  # noqa: F401 — the seeded complaint period fixture

from forms import charts

SVG = "{http://www.w3.org/2000/svg}"

CHARTS = {
    "bar": lambda: charts.bar_chart_svg([("外观不良 Appearance", 5), ("尺寸超差 Dimension", 3)],
                                        title="缺陷 Defects", x_label="次数 Count"),
    "pareto": lambda: charts.pareto_svg([("尺寸超差 Dimension", 3), ("外观不良 Appearance", 5), ("包装 Packing", 1)],
                                        title="缺陷排列图 Pareto", y_label="次数 Count"),
    "trend": lambda: charts.trend_svg(["2025-01", "2025-02", "2025-03"],
                                      {"投诉 Complaints": [1, 0, 2], "退货 Returns": [0, 1, 1]}, title="趋势 Trend"),
    "scatter": lambda: charts.scatter_svg(
        [("防水 Waterproof", 0.8, -0.2), ("续航 Battery", 0.6, -0.7)], x_label="Better 满意系数",
        y_label="Worse 不满意系数", quadrant_labels=["无差异 I", "魅力 A", "必备 M", "期望 O"], title="KANO 分析"),
    "grid": lambda: charts.grid_svg([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], {(5, 5): ("3", "A"), (1, 1): ("1", "D"),
                                                                       (3, 2): ("2", "C")},
                                    title="优先级矩阵 Priority matrix", x_label="紧急度 Urgency",
                                    y_label="重要度 Importance"),
}
LABELS = {"bar": "外观不良 Appearance", "pareto": "包装 Packing", "trend": "投诉 Complaints",
          "scatter": "防水 Waterproof", "grid": "重要度 Importance"}
EMPTY = {
    "bar": lambda: charts.bar_chart_svg([], title="空 Empty"),
    "pareto": lambda: charts.pareto_svg([], title="空 Empty"),
    "pareto-zeros": lambda: charts.pareto_svg([("甲", 0), ("乙", 0)]),
    "trend": lambda: charts.trend_svg([], {}, title="空 Empty"),
    "scatter": lambda: charts.scatter_svg([], x_label="Better", y_label="Worse"),
    "grid": lambda: charts.grid_svg([], [], {}),
}


def texts(svg):
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize("kind", CHARTS)
def test_each_chart_is_inline_svg_with_its_chinese_labels_as_text(kind):
    svg = CHARTS[kind]()
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg and "<metadata" not in svg
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("width") == "100%"
    assert root.get("viewBox") and root.get("height") is None
    title = root.find(f"{SVG}title").text
    assert title and root.get("aria-label") == title
    assert LABELS[kind] in texts(svg)
    # text stays text, in the CJK font; no <style> element (page-global, refused by the pages' CSP)
    assert "Noto Sans CJK SC" in svg and "<path id=\"DejaVu" not in svg and "<style" not in svg


@pytest.mark.parametrize("kind", CHARTS)
def test_the_same_data_gives_the_same_bytes(kind):
    assert CHARTS[kind]() == CHARTS[kind]()


def test_different_charts_do_not_share_ids():
    """Several charts sit on one page: the ids one chart refers to must not repeat in another."""
    ids = [{e.get("id") for e in ET.fromstring(CHARTS[k]()).iter() if e.get("id")} for k in ("bar", "pareto")]
    assert ids[0] and ids[1] and not ids[0] & ids[1]


@pytest.mark.parametrize("kind", EMPTY)
def test_no_data_gives_a_no_data_chart(kind):
    svg = EMPTY[kind]()
    ET.fromstring(svg)
    assert charts.NO_DATA in texts(svg)


def test_the_pareto_is_sorted_with_a_cumulative_line_and_the_rest_as_others():
    svg = charts.pareto_svg([(f"项{i}", i) for i in range(1, 13)])
    labels = texts(svg)
    assert labels.index("项12") < labels.index("项11") < labels.index(charts.OTHERS)
    assert "100%" in labels and "80%" in labels and "累计 Cumulative %" in labels


def test_a_dollar_sign_is_not_mathtext_and_markup_is_escaped():
    svg = charts.bar_chart_svg([("$5 <b>&", 1)], title="a < b")
    assert "$5 <b>&" in texts(svg) and ET.fromstring(svg).get("aria-label") == "a < b"


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="quadrant_labels"):
        charts.scatter_svg([], x_label="x", y_label="y", quadrant_labels=["a", "b"])
    with pytest.raises(ValueError, match="2 values for 3 months"):
        charts.trend_svg(["1", "2", "3"], {"a": [1, 2]})
    with pytest.raises(ValueError, match="neither a label nor an index"):
        charts.grid_svg([1, 2], [1, 2], {(9, 1): ("x", "A")})


def test_grid_cells_by_label_or_index():
    by_label = charts.grid_svg(["高 High", "低 Low"], ["慢", "急"], {("高 High", "急"): ("7", "A")})
    by_index = charts.grid_svg(["高 High", "低 Low"], ["慢", "急"], {(0, 1): ("7", "A")})
    assert by_label == by_index and "7" in texts(by_label)


# --- the complaint analysis draws its charts with forms.charts, in its PDF too ------------------------------

@pytest.mark.django_db
def test_the_complaint_analysis_pdf_carries_its_charts(seeded):  # noqa: F811
    from core.models import RecordFile
    from forms.pdf import render_pdf_bytes
    from procedures.complaints.models import ComplaintAnalysis
    from procedures.complaints.tasks import compile_periodic_complaint_analysis

    analysis = ComplaintAnalysis.objects.get(record__number=compile_periodic_complaint_analysis())
    version = analysis.record.get_version()
    for name in ("by_customer", "by_product", "by_defect", "trend"):
        root = ET.fromstring(version.data["charts"][name])
        assert root.get("role") == "img"
    assert "累计 Cumulative %" in texts(version.data["charts"]["by_defect"])
    assert {"投诉 Complaints", "退货 Returns"} <= set(texts(version.data["charts"]["trend"]))
    stored = RecordFile.objects.filter(record_version=version, kind="pdf").first()
    pdf = stored.file.read() if stored else render_pdf_bytes(version)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    # chart-only text: the chart titles and the Pareto's cumulative axis, read back from the PDF
    assert "12个月趋势 12-month trend" in text and "累计 Cumulative %" in text

