"""The demo's customer satisfaction: customer segments, an earlier closed survey (for the trend) and a
completed survey of a random sample — responses entered by Market, imported from a CSV file and answered
through a one-time link — closed and signed by the Market manager; and the follow-up satisfaction of the
closed P2 cases."""
import csv
import datetime
import io

from django.db import transaction
from django.utils import timezone

from forms.models import Customer
from procedures.complaints import entry as complaints_entry
from workflows.demo import DEMO_PASSWORD

from . import actions
from .models import CustomerSegment, SampleMethod, SatisfactionSurvey

EXTRA_CUSTOMERS = [  # code, 中文, English, contact
    ("C004", "苏州精密机械有限公司", "Suzhou Precision Machinery Co., Ltd.", "王经理 Mr. Wang"),
    ("C005", "重庆长江汽车配件厂", "Chongqing Changjiang Auto Parts", "刘工 Mr. Liu"),
    ("C006", "深圳华南智能设备有限公司", "Shenzhen South China Smart Devices", "周女士 Ms. Zhou"),
    ("C007", "Nordic Drives AB", "Nordic Drives AB", "Mr. Lindqvist"),
    ("C008", "广州穗通汽车系统有限公司", "Guangzhou Suitong Auto Systems", "黄先生 Mr. Huang"),
]
SEGMENTS = {"C001": "电子 Electronics", "C002": "汽车 Automotive", "C003": "出口 Export",
            "C004": "电子 Electronics", "C005": "汽车 Automotive", "C006": "电子 Electronics",
            "C007": "出口 Export", "C008": "汽车 Automotive"}
# (expectation, experience) per indicator: quality, delivery, price, service, communication
EARLIER = {
    "C001": [(5, 4), (5, 3), (4, 3), (4, 4), (3, 3)], "C002": [(5, 4), (5, 3), (4, 2), (4, 3), (4, 3)],
    "C003": [(5, 5), (4, 3), (3, 3), (4, 3), (4, 2)], "C004": [(5, 4), (4, 3), (4, 3), (3, 3), (3, 3)],
    "C005": [(5, 3), (5, 2), (4, 3), (4, 3), (3, 3)], "C006": [(4, 4), (4, 3), (4, 3), (4, 4), (3, 4)],
}
CURRENT = {
    "C001": [(5, 5), (5, 4), (4, 3), (4, 4), (3, 4)], "C002": [(5, 4), (5, 3), (4, 3), (4, 4), (4, 4)],
    "C003": [(5, 5), (4, 3), (3, 3), (4, 4), (4, 3)], "C004": [(5, 4), (4, 4), (4, 3), (3, 4), (3, 4)],
    "C005": [(5, 4), (5, 3), (4, 4), (4, 3), (3, 3)], "C006": [(4, 5), (4, 4), (4, 3), (4, 5), (3, 4)],
    "C007": [(5, 4), (5, 3), (3, 4), (4, 3), (4, 3)], "C008": [(5, 4), (5, 3), (4, 3), (4, 4), (3, 3)],
}
SEED = 20260601
FOLLOW_UPS = [(5, "处理及时，满意 Handled quickly, satisfied"), (4, "退货流程顺畅 Return went smoothly"),
              (3, "结果可以，沟通偏慢 Result fine, communication slow")]


def _scores(rows):
    return {position: pair for position, pair in enumerate(rows, start=1)}


def _months_back(day, months):
    month = day.month - months
    year = day.year + (month - 1) // 12
    return day.replace(year=year, month=(month - 1) % 12 + 1, day=1)


def seed(users, password=DEMO_PASSWORD):
    """Idempotent: nothing if a survey exists. Returns the line the seed command prints."""
    if SatisfactionSurvey.objects.exists():
        return None
    market, manager = users["market"], users["market_mgr"]
    today = timezone.localdate()
    this_month = today.replace(day=1)
    current = (_months_back(this_month, 6), this_month - datetime.timedelta(days=1))
    earlier = (_months_back(this_month, 12), current[0] - datetime.timedelta(days=1))
    with transaction.atomic():
        for code, zh, en, contact in EXTRA_CUSTOMERS:
            Customer.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en, "contact": contact})
        for code, segment in SEGMENTS.items():
            customer = Customer.objects.filter(code=code).first()
            if customer is not None and not CustomerSegment.objects.filter(customer=customer).exists():
                actions.set_segment(customer, actor=market, segment=segment)
    customers = {c.code: c for c in Customer.objects.filter(code__in=SEGMENTS)}
    sign = actions.password_signer(manager, password, username=manager.username, require_username=True)

    with transaction.atomic():  # the earlier survey: every customer, answered from visits and calls
        first = actions.create_survey(actor=market, data={
            "title": f"{earlier[0].year} 年下半年顾客满意度调查 Customer satisfaction survey, H2 {earlier[0].year}"
            if earlier[0].month >= 7 else f"顾客满意度调查 Customer satisfaction survey {earlier[0]:%Y-%m}",
            "period_start": earlier[0], "period_end": earlier[1], "sample_method": SampleMethod.ALL})
        actions.open_survey(first, actor=market)
        for code, rows in EARLIER.items():
            if code in customers and first.sample.filter(customer=customers[code]).exists():
                actions.enter_response(first, actor=market, data={"customer": customers[code],
                                                                  "respondent": customers[code].contact,
                                                                  "scores": _scores(rows)})
    with transaction.atomic():
        actions.close_survey(first, actor=manager, sign=sign,
                             conclusion="交货期与价格满意度偏低，需改进。Delivery and price satisfaction are low.")

    with transaction.atomic():  # the current survey: a random sample of 6, seed recorded
        survey = actions.create_survey(actor=market, data={
            "title": f"顾客满意度调查 {current[0]:%Y-%m}–{current[1]:%Y-%m} Customer satisfaction survey",
            "period_start": current[0], "period_end": current[1], "sample_method": SampleMethod.RANDOM,
            "sample_size": 6, "sample_seed": SEED})
        actions.open_survey(survey, actor=market)
        sampled = [s.customer for s in survey.sample.select_related("customer")]
        entered, imported, linked = sampled[:2], sampled[2:4], sampled[4:5]
        for customer in entered:
            actions.enter_response(survey, actor=market, data={
                "customer": customer, "respondent": customer.contact, "remark": "电话回访 by phone",
                "scores": _scores(CURRENT[customer.code])})
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(actions.import_layout(survey))
        for customer in imported:
            writer.writerow([customer.code, customer.contact, "拜访 visit"]
                            + [n for pair in CURRENT[customer.code] for n in pair])
        actions.import_responses(survey, actor=users.get("market2") or market, name="satisfaction-visits.csv",
                                 content=out.getvalue().encode("utf-8"))
        tokens = [actions.issue_link(survey, actor=market, customer=c, days_valid=14)[1] for c in linked]
    for customer, token in zip(linked, tokens):
        with transaction.atomic():
            actions.answer_through_link(token, scores=_scores(CURRENT[customer.code]), remark="交期还需改进")
    with transaction.atomic():
        actions.close_survey(survey, actor=manager, sign=sign,
                             conclusion="指数较上期上升；交货期仍为优先改进项。The index rose; delivery remains the first "
                                        "to improve.")

    recorded = 0
    for case, (score, remark) in zip(complaints_entry.closed_cases(_all_records()), FOLLOW_UPS):
        if case.follow_up_score is None:
            with transaction.atomic():
                complaints_entry.record_follow_up(case, actor=market, data={"score": score, "remark": remark})
            recorded += 1
    return (f"Seeded customer satisfaction: {first.record.number} (closed, earlier) and {survey.record.number} "
            f"(random sample of 6, seed {SEED}, closed and signed); {recorded} follow-up satisfaction scores.")


def _all_records():
    from core.models import Record  # noqa: PLC0415

    return Record.objects.all()
