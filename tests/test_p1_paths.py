"""P1 paths, each walked through the REST API and through the browser URLs (Django
test client): the resulting state, records, signatures and audit rows."""
import datetime

import pytest
from viewflow.workflow.models import Process

from core.models import AuditEntry, Record, RecordFile, Signature
from drivers import ApiDriver, WebDriver, open_steps
from procedures.order_review.models import LedgerEntry, OrderReview, OrderReviewStatus
from procedures.order_review.seed import review_answers

pytestmark = pytest.mark.django_db

DEPTS = ["market", "quality", "production", "engineering", "materials"]  # round 1: Market's own review too


@pytest.fixture(params=[ApiDriver, WebDriver], ids=["api", "web"])
def drive(request, people):
    return request.param()


def review_data(verdict="can_meet", department="quality"):
    return {"verdict": verdict, "comment": "" if verdict == "can_meet" else "需延期两周 two weeks more",
            **review_answers(department)}


def review_round(drive, pid, verdicts=None, departments=DEPTS):
    for dept in departments:
        verdict = (verdicts or {}).get(dept, "can_meet")
        assert drive.do(dept, pid, f"review_{dept}", review_data(verdict, dept), meaning="reviewed") == 200


def approve(drive, pid, who="market_mgr", meaning="approved", reason=""):
    return drive.do(who, pid, "approve", {"conclusion": "同意 Agreed"}, meaning=meaning, reason=reason)


def plan(drive, pid, future):
    return drive.do("materials", pid, "write_plan", {
        "planned_start": datetime.date.today().isoformat(), "planned_finish": future(20),
        "material_readiness": "钢材已备 steel in stock"}, meaning="authored")


def test_happy_path_order_accepted_with_ledger_line_plan_and_signed_pdf(drive, order_data, future):
    pid = drive.start("market", order_data())
    review = OrderReview.objects.get(record__process_id=pid)
    assert review.record.number.startswith("OR-")
    assert open_steps(pid) == ["review_engineering", "review_market", "review_materials", "review_production",
                               "review_quality"]
    review_round(drive, pid)
    assert open_steps(pid) == ["approve"]
    assert approve(drive, pid) == 200
    assert open_steps(pid) == ["write_plan"]
    assert plan(drive, pid, future) == 200
    assert open_steps(pid) == []
    assert Process.objects.get(pk=pid).status == "DONE"
    review.refresh_from_db()
    review.record.refresh_from_db()
    assert review.status == OrderReviewStatus.APPROVED
    assert LedgerEntry.objects.get(order_review=review).total_amount == 500 * 12.5 + 300 * 8
    signatures = Signature.objects.filter(record_version__record=review.record)
    assert sorted(s.meaning for s in signatures) == ["approved"] + ["reviewed"] * 5  # Market + four departments
    assert {s.printed_name for s in signatures} == {"李娜 Li Na", "王芳 Wang Fang", "陈静 Chen Jing", "杨磊 Yang Lei",
                                                   "赵敏 Zhao Min", "张伟 Zhang Wei"}
    assert RecordFile.objects.filter(record_version=review.record.get_version(), kind="pdf").exists()
    actions = set(AuditEntry.objects.filter(process_id=pid).values_list("action", flat=True))
    assert {"record.created", "record.version_created", "esign.signed", "task.completed", "task.assigned",
            "process.started", "ledger.entered", "record.rendered"} <= actions
    assert Record.objects.filter(record_type="production_plan", process_id=pid).count() == 1


def test_conditions_lead_to_negotiation_change_notice_and_re_review_of_affected_departments(drive, order_data):
    pid = drive.start("market", order_data())
    review_round(drive, pid, verdicts={"production": "conditions"})
    assert open_steps(pid) == ["negotiate"]
    changed = order_data()["lines"]
    changed[0]["delivery_date"] = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
    assert drive.do("market", pid, "negotiate", {
        "outcome": "change", "notes": "客户同意延期 customer accepts later delivery", "category": "later",
        "affected_departments": ["production"], "customer_confirmed": True, "lines": changed,
    }, meaning="authored") == 200
    assert open_steps(pid) == ["review_production"]
    review_round(drive, pid, departments=["production"])
    assert approve(drive, pid) == 200
    review = OrderReview.objects.get(record__process_id=pid)
    assert review.rounds.count() == 2
    notice = review.change_notices.get()
    assert notice.status == "approved" and notice.record.number.startswith("CCN-")
    assert str(review.lines.get(position=1).delivery_date) == changed[0]["delivery_date"]
    assert Signature.objects.filter(record_version__record=notice.record).count() == 2  # issued + approved


def test_negotiation_leaving_out_an_objecting_department_is_refused(drive, order_data):
    pid = drive.start("market", order_data())
    review_round(drive, pid, verdicts={"production": "conditions"})
    status = drive.do("market", pid, "negotiate", {
        "outcome": "change", "notes": "x", "category": "later", "affected_departments": ["quality"],
        "customer_confirmed": True, "lines": order_data()["lines"]}, meaning="authored")
    assert status == 400
    assert OrderReview.objects.get(record__process_id=pid).change_notices.count() == 0
    assert open_steps(pid) == ["negotiate"]


def test_declined_order_closes_with_reason(drive, order_data):
    pid = drive.start("market", order_data())
    review_round(drive, pid, verdicts={"engineering": "cannot_meet"})
    assert drive.do("market", pid, "negotiate", {"outcome": "declined", "notes": "客户不接受 customer refuses"},
                    meaning="authored") == 200
    assert Process.objects.get(pk=pid).status == "DONE"
    review = OrderReview.objects.get(record__process_id=pid)
    assert review.status == OrderReviewStatus.DECLINED
    assert review.declined_reason == "客户不接受 customer refuses"
    assert not LedgerEntry.objects.filter(order_review=review).exists()


def test_a_quote_difference_must_be_resolved_before_acceptance(drive, order_data):
    pid = drive.start("market", order_data(quote_reference="QT-2026-018",
                                           quote_differences="单价由 12.0 改为 12.5 unit price 12.0 → 12.5",
                                           statutory_requirements="RoHS 2011/65/EU", implied_requirements="防锈包装",
                                           after_delivery_requirements="质保 12 个月 12-month warranty"))
    review_round(drive, pid)
    assert approve(drive, pid) == 400
    assert open_steps(pid) == ["approve"]
    assert drive.do("market_mgr", pid, "approve", {"conclusion": "同意 Agreed",
                                                   "differences_resolution": "客户书面确认新单价 customer confirmed"},
                    meaning="approved") == 200
    review = OrderReview.objects.get(record__process_id=pid)
    review.record.refresh_from_db()
    data = review.record.get_version().data
    assert data["differences_resolution"] == "客户书面确认新单价 customer confirmed"
    assert data["statutory_requirements"] == "RoHS 2011/65/EU"
    assert data["after_delivery_requirements"] == "质保 12 个月 12-month warranty"


def test_contract_goes_to_the_general_manager_not_the_market_manager(drive, order_data):
    pid = drive.start("market", order_data(kind="contract"))
    review_round(drive, pid)
    assert approve(drive, pid, who="market_mgr") in (403, 404)
    assert approve(drive, pid, who="gm") == 200
    sig = Signature.objects.filter(meaning="approved", record_version__record__process_id=pid).get()
    assert sig.printed_name == "周强 Zhou Qiang" and "General Manager" in sig.role


def test_change_after_approval_is_re_reviewed_approved_and_revises_the_ledger(drive, order_data, future):
    pid = drive.start("market", order_data())
    review_round(drive, pid)
    approve(drive, pid)
    plan(drive, pid, future)
    review = OrderReview.objects.get(record__process_id=pid)
    lines = order_data()["lines"]
    lines[0]["quantity"] = "800"
    change_pid = drive.start_change("market2", {
        "order": review.record.number, "category": "increase", "reason": "客户加量 customer adds 300 pcs",
        "affected_departments": ["production", "materials"], "customer_confirmed": True, "lines": lines})
    review.refresh_from_db()
    assert review.status == OrderReviewStatus.CHANGE_IN_REVIEW
    assert open_steps(change_pid) == ["review_materials", "review_production"]
    review_round(drive, change_pid, departments=["production", "materials"])
    assert approve(drive, change_pid) == 200
    # REQ-6: each department concerned signs for the approved change; Materials updates the plan
    assert open_steps(change_pid) == ["acknowledge_change", "acknowledge_change", "write_plan"]
    for dept in ["production", "materials"]:
        assert drive.do(dept, change_pid, "acknowledge_change", {"comment": "已收到 received"},
                        meaning="acknowledged") == 200
    assert plan(drive, change_pid, future) == 200
    assert Process.objects.get(pk=change_pid).status == "DONE"
    notice = review.change_notices.get()
    assert sorted(r.department for r in notice.receipts.all()) == ["materials", "production"]
    notice.record.refresh_from_db()
    receipts = notice.record.get_version().data["receipts"]
    assert {r["receiver"] for r in receipts} == {"陈静 Chen Jing", "赵敏 Zhao Min"}
    assert Signature.objects.filter(record_version__record=notice.record, meaning="acknowledged").count() == 2
    assert review.plans.order_by("order_revision").last().order_revision == 1
    plan_words = review.plans.order_by("order_revision").last().record.search_text.split()
    assert {"P-1001", "P-1002", review.order_number, review.record.number} <= set(plan_words)  # found as the order
    review.refresh_from_db()
    assert review.status == OrderReviewStatus.APPROVED and review.revision == 1
    entry = LedgerEntry.objects.get(order_review=review)
    assert entry.revision == 1
    assert [r.revision for r in entry.revisions.all()] == [0, 1]
    assert entry.total_amount == 800 * 12.5 + 300 * 8
    assert AuditEntry.objects.filter(action="ledger.revised", record=review.record).exists()
    # the approved change is an amendment of approved content
    from core.records import is_amended

    review.record.refresh_from_db()
    assert is_amended(review.record.get_version())


def test_the_registry_finds_a_changed_order_by_its_products_as_they_stand(drive, order_data, future):
    """A change notice that replaces a product: the registry's products column and search text follow the order's
    lines (they kept the products ordered first), and a rejected change gives the order's own products back."""
    from api_driver import client_for

    def found_by(product):
        response = client_for("quality_mgr").get("/api/records/", {"product": product, "type": "order_review"})
        return [r["number"] for r in response.json()["results"]]

    pid = drive.start("market", order_data())
    review_round(drive, pid)
    approve(drive, pid)
    review = OrderReview.objects.get(record__process_id=pid)
    number = review.record.number
    assert number in found_by("P-1002") and number not in found_by("P-2001")
    lines = order_data()["lines"]
    lines[1]["product"] = "P-2001"
    change_pid = drive.start_change("market2", {
        "order": number, "category": "other", "reason": "客户换型号 the customer changes the second part",
        "customer_confirmed": True, "affected_departments": ["production"], "lines": lines})
    review.record.refresh_from_db()
    assert review.record.product_text.startswith("P-1001 ") and "P-2001 " in review.record.product_text
    assert "P-1002" not in review.record.product_text and "P-1002" not in review.record.search_text
    assert number in found_by("P-2001") and number not in found_by("P-1002")
    notice = review.change_notices.get().record  # found by the order's products and numbers, as the order is
    assert {"P-1001", "P-2001", review.order_number, number} <= set(notice.search_text.split())
    review_round(drive, change_pid, departments=["production"])
    assert approve(drive, change_pid, meaning="rejected", reason="无法供货 cannot supply") == 200
    assert number in found_by("P-1002") and number not in found_by("P-2001")


def test_a_rejected_change_after_approval_leaves_the_approved_order_as_it_was(drive, order_data, future):
    pid = drive.start("market", order_data())
    review_round(drive, pid)
    approve(drive, pid)
    review = OrderReview.objects.get(record__process_id=pid)
    lines = order_data()["lines"]
    lines[0]["quantity"] = "900"
    change_pid = drive.start_change("market2", {
        "order": review.record.number, "category": "increase", "reason": "加量 more", "customer_confirmed": True,
        "affected_departments": ["production"], "lines": lines})
    review_round(drive, change_pid, departments=["production"])
    assert approve(drive, change_pid, meaning="rejected", reason="产能不足 no capacity") == 200
    review.refresh_from_db()
    assert review.status == OrderReviewStatus.APPROVED and review.revision == 0
    assert review.lines.get(position=1).quantity == 500
    assert review.change_notices.get().status == "rejected"
    assert LedgerEntry.objects.get(order_review=review).revision == 0
