"""Issue 14, items 3–5 (P1 against PROCEDURES.md / REQUIREMENTS.md), each through the REST API
and the browser URLs (Django test client):
3. "the customer accepts the stated conditions" settles "can meet with conditions" only; a "cannot
   meet" is resolved by a change re-reviewed by that department, or the order is declined (REQ-1);
4. Market's own review on the record sheet (src 6.3.8), the meeting review's attendees and minutes,
   REQ-2's categories (incl. the company's own requirements) each answered by every reviewer;
5. a change supersedes the production plan written before it, and verify_audit finds no working
   data that differs from its record's last version (fresh demo, full change)."""
import subprocess

import pytest

from core.models import AuditEntry, Signature
from core.verification import working_data_warnings
from drivers import ApiDriver, WebDriver, open_steps
from forms.pdf import render_version
from procedures.order_review.models import (
    DepartmentReview, OrderReview, OrderReviewStatus, PlanStatus, ProductionPlan,
)
from procedures.order_review.seed import review_answers

pytestmark = pytest.mark.django_db

DEPTS = ["market", "quality", "production", "engineering", "materials"]


@pytest.fixture(params=[ApiDriver, WebDriver], ids=["api", "web"])
def drive(request, people):
    return request.param()


def review_data(department, verdict="can_meet", **extra):
    return {"verdict": verdict, "comment": "" if verdict == "can_meet" else "需延期两周 two weeks more",
            **review_answers(department), **extra}


def review_round(drive, pid, verdicts=None, departments=DEPTS):
    for dept in departments:
        status = drive.do(dept, pid, f"review_{dept}", review_data(dept, (verdicts or {}).get(dept, "can_meet")),
                          meaning="reviewed")
        assert status == 200, getattr(drive.last_response, "content", b"")[:2000]


def error_text(drive):
    return drive.last_response.content.decode()


def negotiated(pid):
    return AuditEntry.objects.filter(process_id=pid, action="order_review.negotiated").count()


# --- item 3 ------------------------------------------------------------------------------------------


def test_conditions_accepted_cannot_settle_a_cannot_meet(drive, order_data, people):
    pid = drive.start("market", order_data())
    review_round(drive, pid, verdicts={"engineering": "cannot_meet", "production": "conditions"})
    assert open_steps(pid) == ["negotiate"]
    status = drive.do("market", pid, "negotiate", {"outcome": "conditions_accepted", "notes": "客户接受 accepts"},
                      meaning="authored")
    assert status == 400
    assert "cannot meet" in error_text(drive) or "不能满足" in error_text(drive) or "outcome" in error_text(drive)
    review = OrderReview.objects.get(record__process_id=pid)
    assert review.status == OrderReviewStatus.NEGOTIATION and negotiated(pid) == 0
    assert open_steps(pid) == ["negotiate"]
    # resolved the way P1.3 says: a change that engineering reviews again …
    status = drive.do("market", pid, "negotiate", {
        "outcome": "change", "notes": "改用标准规格 standard spec", "category": "other",
        "affected_departments": ["engineering", "production"], "customer_confirmed": True,
        "lines": order_data()["lines"]}, meaning="authored")
    assert status == 200
    review_round(drive, pid, verdicts={"production": "conditions"}, departments=["engineering", "production"])
    # … after which only a "with conditions" is left, which the customer may accept
    assert drive.do("market", pid, "negotiate", {"outcome": "conditions_accepted", "notes": "客户接受延期 accepts"},
                    meaning="authored") == 200
    assert open_steps(pid) == ["approve"]


def test_conditions_accepted_still_settles_can_meet_with_conditions(drive, order_data):
    pid = drive.start("market", order_data())
    review_round(drive, pid, verdicts={"production": "conditions"})
    assert drive.do("market", pid, "negotiate", {"outcome": "conditions_accepted", "notes": "客户接受 accepts"},
                    meaning="authored") == 200
    assert OrderReview.objects.get(record__process_id=pid).status == OrderReviewStatus.AWAITING_APPROVAL


def test_a_cannot_meet_order_may_still_be_declined(drive, order_data):
    pid = drive.start("market", order_data())
    review_round(drive, pid, verdicts={"quality": "cannot_meet"})
    assert drive.do("market", pid, "negotiate", {"outcome": "declined", "notes": "无法满足 refused"},
                    meaning="authored") == 200
    assert OrderReview.objects.get(record__process_id=pid).status == OrderReviewStatus.DECLINED


# --- item 4 ------------------------------------------------------------------------------------------


def pdf_text(version):
    path = next(f for f in render_version(version) if f.kind == "pdf").file.path
    # CJK wraps inside a word in the narrow columns: compare without any whitespace
    return "".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())


def test_market_reviews_signs_and_the_sheet_prints_it(drive, order_data):
    pid = drive.start("market", order_data(company_requirements="最小起订量 500 MOQ 500"))
    assert "review_market" in open_steps(pid)
    review_round(drive, pid)
    assert drive.do("market_mgr", pid, "approve", {"conclusion": "同意 Agreed"}, meaning="approved") == 200
    review = OrderReview.objects.get(record__process_id=pid)
    review.record.refresh_from_db()
    data = review.record.get_version().data
    market = next(r for r in data["rounds"][0]["reviews"] if r["department"] == "market")
    assert market["market_opinion"] == {"delivery_date": "交期可接受 delivery dates can be kept",
                                        "unit_price": "单价与报价一致 prices as quoted",
                                        "packaging": "纸箱包装，标准托盘 carton, standard pallet"}
    assert data["company_requirements"] == "最小起订量 500 MOQ 500"
    signature = Signature.objects.get(record_version__record=review.record, signer_username="market",
                                      meaning="reviewed")
    assert "市场部" in signature.role or "Market" in signature.role
    text = pdf_text(review.record.get_version())
    for printed in ["交期可接受 delivery dates can be kept", "单价与报价一致 prices as quoted", "李娜 Li Na",
                    "公司自身要求", "最小起订量 500 MOQ 500", "Requirement categories (REQ-2)"]:
        assert "".join(printed.split()) in text, printed


@pytest.mark.parametrize("missing", ["opinion_delivery_date", "opinion_unit_price", "opinion_packaging"])
def test_market_review_without_an_opinion_is_refused(drive, order_data, missing):
    pid = drive.start("market", order_data())
    data = review_data("market")
    del data[missing]
    assert drive.do("market", pid, "review_market", data, meaning="reviewed") == 400
    assert missing in error_text(drive)
    assert not DepartmentReview.objects.filter(round__process_id=pid).exists()
    assert "review_market" in open_steps(pid)


@pytest.mark.parametrize("department", ["quality", "materials"])
def test_every_reviewer_answers_every_requirement_category(drive, order_data, department):
    pid = drive.start("market", order_data())
    data = review_data(department)
    del data["category_company"]
    assert drive.do(department, pid, f"review_{department}", data, meaning="reviewed") == 400
    assert "category_company" in error_text(drive)
    issue = review_data(department, category_statutory="issue")
    assert drive.do(department, pid, f"review_{department}", issue, meaning="reviewed") == 400  # no comment
    assert not DepartmentReview.objects.filter(round__process_id=pid).exists()
    answered = review_data(department, category_statutory="issue", comment="REACH 声明缺 REACH declaration missing")
    assert drive.do(department, pid, f"review_{department}", answered, meaning="reviewed") == 200
    row = DepartmentReview.objects.get(round__process_id=pid)
    assert row.categories["statutory"] == "issue" and row.categories["company"] == "met"
    assert set(row.categories) == {"stated", "delivery", "unstated", "company", "statutory", "differences"}


def test_a_meeting_review_records_attendees_and_minutes(drive, order_data):
    assert drive.post_start("market", order_data(review_method="meeting")).status_code in (200, 400)
    assert not OrderReview.objects.exists()
    body = error_text(drive)
    assert "meeting_attendees" in body and "meeting_minutes" in body
    pid = drive.start("market", order_data(
        number="PO-2026-002", review_method="meeting", meeting_attendees="李娜 市场部; 王芳 品质部; 陈静 生产部",
        meeting_minutes="交期确认可行 delivery confirmed feasible"))
    review = OrderReview.objects.get(record__process_id=pid)
    data = review.record.get_version().data
    assert data["meeting_attendees"].startswith("李娜") and data["meeting_minutes"].startswith("交期")
    text = pdf_text(review.record.get_version())
    assert "参会人员Meetingattendees" in text and "交期确认可行deliveryconfirmedfeasible" in text


# --- item 5 ------------------------------------------------------------------------------------------


def test_a_quantity_change_supersedes_the_old_plan_and_verifies_clean(drive, order_data, future):
    pid = drive.start("market", order_data())
    review_round(drive, pid)
    assert drive.do("market_mgr", pid, "approve", {"conclusion": "同意 Agreed"}, meaning="approved") == 200
    plan_data = {"planned_start": future(1), "planned_finish": future(25), "material_readiness": "钢材已备 in stock"}
    assert drive.do("materials", pid, "write_plan", plan_data, meaning="authored") == 200
    review = OrderReview.objects.get(record__process_id=pid)
    old = ProductionPlan.objects.get(order_review=review)
    lines = order_data()["lines"]
    lines[0]["quantity"] = "800"
    change_pid = drive.start_change("market2", {
        "order": review.record.number, "category": "increase", "reason": "客户加量 customer adds 300 pcs",
        "affected_departments": ["production", "materials"], "customer_confirmed": True, "lines": lines})
    review_round(drive, change_pid, departments=["production", "materials"])
    assert drive.do("market_mgr", change_pid, "approve", {"conclusion": "同意 Agreed"}, meaning="approved") == 200
    assert list(working_data_warnings()) == []  # the old plan keeps the lines it was written for
    assert drive.do("materials", change_pid, "write_plan", plan_data, meaning="authored") == 200
    for dept in ["production", "materials"]:
        assert drive.do(dept, change_pid, "acknowledge_change", {"comment": "已收到"}, meaning="acknowledged") == 200
    new = ProductionPlan.objects.exclude(pk=old.pk).get(order_review=review)
    old.refresh_from_db()
    assert (old.status, old.superseded_by_id, new.status) == (PlanStatus.SUPERSEDED, new.pk, PlanStatus.ISSUED)
    old.record.refresh_from_db()
    old_data = old.record.get_version().data
    assert old_data["status"] == "superseded" and old_data["superseded_by"] == new.record.number
    assert old_data["lines"][0]["quantity"] == "500"
    assert new.record.get_version().data["lines"][0]["quantity"] == "800"
    entry = AuditEntry.objects.get(action="production_plan.superseded", record=old.record)
    assert entry.new_values["superseded_by"] == new.record.number
    assert list(working_data_warnings()) == []


def test_a_fresh_demo_has_no_working_data_that_differs_from_its_records(people, monkeypatch):
    from django.core.management import call_command
    from p3_support import skip_rendering

    skip_rendering(monkeypatch)
    call_command("seed_demo")
    assert OrderReview.objects.filter(order_number="CT-DEMO-004", status=OrderReviewStatus.APPROVED).exists()
    assert [str(w) for w in working_data_warnings()] == []
