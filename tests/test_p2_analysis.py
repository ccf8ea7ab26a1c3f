"""P2.7 [src 6.6.10, CA-6]: the complaint and return analysis — scheduled by Celery beat
and on demand — whose PDF text (counts, Pareto order, cost, open CAPAs) equals what the
database says for the seeded period."""
import datetime
import re
import subprocess
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.conf import settings
from viewflow.workflow.status import STATUS

from core.models import RecordFile, Signature
from flow_driver import act, open_tasks, start
from procedures.complaints import actions as p2
from procedures.complaints.models import ComplaintAnalysis, ComplaintCase, DefectCategory
from procedures.complaints.tasks import compile_periodic_complaint_analysis
from p2_support import FLOW, intake, p2_drivers

pytestmark = pytest.mark.django_db

# (customer, product, defect, kind, justified, cost, capa) — distinct counts, so the Pareto order is unambiguous
SEED = (
    [("C001", "P-1001", "appearance", "return", True, "120.50", True)] * 3
    + [("C001", "P-1002", "dimension", "complaint", True, "80", True)] * 2
    + [("C001", "P-2001", "appearance", "both", False, "0", None)]
    + [("C002", "P-1001", "appearance", "return", True, "300", False)] * 2
    + [("C002", "P-1002", "function", "complaint", None, "0", None)] * 2
    + [("C003", "P-3001", "dimension", "return", True, "999.99", True)]
    + [("C003", "P-1002", "packaging", "complaint", False, "15", None)]
)


def previous_month():
    return p2.previous_period(datetime.date.today())


@pytest.fixture
def seeded(people):
    """Cases registered through the real intake in last month (and two outside the period),
    then given their outcomes directly in the working tables."""
    start_day, end_day = previous_month()
    for index, (customer, product, defect, kind, justified, cost, capa) in enumerate(SEED):
        day = start_day + datetime.timedelta(days=index % 28)
        day = min(day, end_day)
        process = start(FLOW, "start", people["market"], intake(
            kind=kind, customer=customer, product=product, defect=defect, lot=f"L-{index:03d}",
            received_on=day.isoformat()))
        ComplaintCase.objects.filter(record__process=process).update(
            justified=justified, cost=Decimal(cost), capa_required=capa)
    for days_before in (1, 400):  # outside the period
        process = start(FLOW, "start", people["market"], intake(
            customer="C003", product="P-3001",
            received_on=(start_day - datetime.timedelta(days=days_before)).isoformat()))
        ComplaintCase.objects.filter(record__process=process).update(capa_required=True)
    return start_day, end_day


def pdf_text(path, layout=False):
    args = ["pdftotext"] + (["-layout"] if layout else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pareto_rows(text, heading, next_heading):
    """The rows of one Pareto table in the PDF text: [(rank, label, count, justified, cost)].
    pdftotext puts each cell in its own paragraph; a label may wrap inside its cell."""
    section = text[text.index(heading):text.index(next_heading)]
    cells = [c.strip() for c in re.split(r"\n\s*\n", section[section.index("Cum.") :])]
    cells = [c for c in cells[1:] if c and c != "%"]
    rows, index = [], 0
    while index < len(cells) and re.fullmatch(r"\d+", cells[index]):
        rank, index = int(cells[index]), index + 1
        label = []
        while not re.fullmatch(r"[\d,.]+", cells[index]):
            label.append(" ".join(cells[index].split()))
            index += 1
        count, justified, cost = int(cells[index]), int(cells[index + 1]), Decimal(cells[index + 2].replace(",", ""))
        rows.append((rank, " ".join(label), count, justified, cost))
        index += 5  # count, justified, cost, share, cumulative
    return rows


def expected_pareto(cases, key, label):
    counts, justified, cost, labels = Counter(), Counter(), defaultdict(Decimal), {}
    for case in cases:
        k = key(case)
        counts[k] += 1
        justified[k] += 1 if case.justified else 0
        cost[k] += case.cost
        labels[k] = label(case)
    order = sorted(counts, key=lambda k: (-counts[k], -cost[k], labels[k]))
    return [(rank, labels[k], counts[k], justified[k], cost[k]) for rank, k in enumerate(order, start=1)]


def total(text, label):
    return re.search(re.escape(label) + r"\s+([\d,.]+)", text).group(1).replace(",", "")


def test_the_scheduled_analysis_pdf_shows_the_counts_and_pareto_order_the_database_has(seeded, people):
    start_day, end_day = seeded
    number = compile_periodic_complaint_analysis()
    analysis = ComplaintAnalysis.objects.get(record__number=number)
    assert (analysis.period_start, analysis.period_end, analysis.trigger) == (start_day, end_day, "scheduled")
    assert analysis.compiled_by.username == settings.QMS.get("SCHEDULER_USERNAME", "qms-scheduler")
    # → a signing task in the Market manager's inbox
    (task,) = open_tasks(analysis.record.process, "approve_analysis")
    assert task.owner == people["market_mgr"] and task.status == STATUS.ASSIGNED
    act(analysis.record.process, "approve_analysis", people["market_mgr"],
        {"comment": "提交管理评审 input to management review"}, meaning="approved")
    analysis.record.refresh_from_db()
    version = analysis.record.get_version()
    assert analysis.record.status == "approved"
    signature = Signature.objects.get(record_version__record=analysis.record)
    assert (signature.meaning, signature.printed_name) == ("approved", "张伟 Zhang Wei")
    text = pdf_text(RecordFile.objects.get(record_version=version, kind="pdf").file.path)
    # the totals read row by row (-layout): where a page break falls must not change which figure a label has
    totals_text = pdf_text(RecordFile.objects.get(record_version=version, kind="pdf").file.path, layout=True)

    cases = list(ComplaintCase.objects.filter(received_on__range=(start_day, end_day))
                 .select_related("customer", "product"))
    assert len(cases) == len(SEED)
    assert total(totals_text, "客诉与退货总数 Cases") == str(len(cases))
    assert total(totals_text, "投诉 Complaints") == str(sum(c.kind == "complaint" for c in cases))
    assert total(totals_text, "退货 Returns") == str(sum(c.kind == "return" for c in cases))
    assert total(totals_text, "判定成立 Justified") == str(sum(c.justified is True for c in cases))
    assert total(totals_text, "判定不成立 Not justified") == str(sum(c.justified is False for c in cases))
    assert Decimal(total(totals_text, "费用合计 Total cost")) == sum(c.cost for c in cases)
    open_capa = ComplaintCase.objects.filter(capa_required=True, capa_closed_at__isnull=True).count()
    assert total(totals_text, "未结纠正预防措施 Open CAPA requests") == str(open_capa) == "8"

    assert pareto_rows(text, "Pareto by customer", "Pareto by product") == expected_pareto(
        cases, lambda c: c.customer.code, lambda c: p2.customer_label(c.customer))
    assert pareto_rows(text, "Pareto by product", "Pareto by defect class") == expected_pareto(
        cases, lambda c: c.product.code, lambda c: f"{c.product.code} {c.product.name_zh} {c.product.name_en}")
    assert pareto_rows(text, "Pareto by defect class", "Dispositions") == expected_pareto(
        cases, lambda c: c.defect_category,
        lambda c: DefectCategory(c.defect_category).bilingual)
    # the Pareto is ordered: C001 (6) before C002 (4) before C003 (2)
    assert [row[2] for row in pareto_rows(text, "Pareto by customer", "Pareto by product")] == [6, 4, 2]
    # the charts are drawn as vector graphics with their labels as text
    assert "<svg" in version.data["charts"]["by_customer"] and "投诉 Complaints" in text


def test_the_schedule_compiles_a_period_once(seeded):
    first = compile_periodic_complaint_analysis()
    assert first and compile_periodic_complaint_analysis() is None
    assert ComplaintAnalysis.objects.count() == 1


def test_the_job_is_on_the_beat_schedule_monthly_by_default():
    entry = settings.CELERY_BEAT_SCHEDULE["complaint-analysis"]
    assert entry["task"] == "procedures.complaints.tasks.compile_periodic_complaint_analysis"
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1} and schedule.hour == {7} and schedule.minute == {0}


def test_the_period_is_the_previous_full_months(settings):
    assert p2.previous_period(datetime.date(2026, 3, 15)) == (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    assert p2.previous_period(datetime.date(2026, 1, 1), months=3) == (
        datetime.date(2025, 10, 1), datetime.date(2025, 12, 31))


@pytest.mark.parametrize("via", ["api", "web"])
def test_the_market_manager_compiles_an_analysis_on_demand(seeded, people, via):
    start_day, end_day = seeded
    body = {"period_start": start_day.isoformat(), "period_end": end_day.isoformat()}
    if via == "api":
        driver = p2_drivers()["api"]()
        pid = driver.start("market_mgr", body, url="/api/complaint-analyses/")
    else:
        driver = p2_drivers()["web"]()
        pid = driver.start("market_mgr", body, node="start_analysis")
    analysis = ComplaintAnalysis.objects.get(record__process_id=pid)
    assert analysis.trigger == "on_demand" and analysis.compiled_by == people["market_mgr"]
    assert analysis.figures["totals"]["cases"] == len(SEED)
    assert RecordFile.objects.filter(record_version__record=analysis.record, kind="pdf").exists()  # draft to read
    assert driver.do("market_mgr", pid, "approve_analysis", {"comment": "同意 agreed"}, meaning="approved") == 200
    analysis.refresh_from_db()
    assert analysis.approved_by == people["market_mgr"]
    analysis.record.refresh_from_db()
    assert RecordFile.objects.filter(record_version=analysis.record.get_version(), kind="pdf").exists()
