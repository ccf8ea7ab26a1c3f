"""P1 through the REST API: every path, with the resulting state and audit rows."""
import datetime

import pytest
from django.test import TestCase

from api_driver import client_for, do, find_task, signature
from core.models import AuditEntry, Record, Signature
from forms.models import LedgerEntry, OrderReview, OrderReviewStatus

pytestmark = pytest.mark.django_db

DEPTS = ["quality", "production", "engineering", "materials"]


def review_data(verdict="can_meet", department="quality"):
    data = {"verdict": verdict, "comment": "" if verdict == "can_meet" else "需延期两周 two weeks more"}
    if department == "materials":
        data["material_readiness"] = "ready"
    return data


@pytest.fixture
def api(people):
    return {name: client_for(name) for name in people if name != "admin"}


def start(api, order_data, **kwargs):
    response = api["market"].post("/api/order-reviews/", order_data(**kwargs), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def review_round(api, pid, verdicts=None, departments=DEPTS):
    for dept in departments:
        verdict = (verdicts or {}).get(dept, "can_meet")
        response = do(api[dept], pid, f"review_{dept}", review_data(verdict, dept), meaning="reviewed")
        assert response.status_code == 200, response.content


def plan(api, pid, future):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = do(api["materials"], pid, "write_plan", {
            "planned_start": datetime.date.today().isoformat(), "planned_finish": future(20),
            "material_readiness": "钢材已备 steel in stock"}, meaning="authored")
    assert response.status_code == 200, response.content
    return response.json()


def approve(api, pid, who="market_mgr", meaning="approved", reason=""):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return do(api[who], pid, "approve", {"conclusion": "同意 Agreed"}, meaning=meaning, reason=reason)


def test_happy_path_order_accepted_with_ledger_line_plan_and_signed_pdf(api, order_data, future):
    started = start(api, order_data)
    pid = started["process"]
    assert started["record"].startswith("OR-")
    review_round(api, pid)
    response = approve(api, pid)
    assert response.status_code == 200, response.content
    assert {t["step"] for t in response.json()["next_tasks"]} == {"write_plan"}
    result = plan(api, pid, future)
    assert result["process_status"] == "DONE"

    review = OrderReview.objects.get(record__number=started["record"])
    assert review.status == OrderReviewStatus.APPROVED
    assert LedgerEntry.objects.get(order_review=review).total_amount == 500 * 12.5 + 300 * 8
    record = api["quality"].get(f"/api/records/{review.record.pk}/").json()
    meanings = sorted(sig["meaning"] for sig in record["signatures"])
    assert meanings == ["approved", "reviewed", "reviewed", "reviewed", "reviewed"]
    assert all(sig["valid"] for sig in record["signatures"])
    assert all(v["hash_valid"] for v in record["versions"])
    pdf = api["quality"].get(f"/api/records/{review.record.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    audit = api["quality"].get(f"/api/records/{review.record.pk}/audit/").json()
    actions = {entry["action"] for entry in audit}
    assert {"record.created", "record.version_created", "esign.signed", "task.completed"} <= actions
    # the production plan is its own signed record
    assert Record.objects.filter(record_type="production_plan", process_id=pid).count() == 1


def test_conditions_lead_to_negotiation_change_notice_and_re_review_of_affected_departments(api, order_data):
    pid = start(api, order_data)["process"]
    review_round(api, pid, verdicts={"production": "conditions"})
    task = find_task(api["market"], pid, "negotiate")
    assert task["step"] == "negotiate"
    changed = order_data()["lines"]
    changed[0]["delivery_date"] = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
    response = do(api["market"], pid, "negotiate", {
        "outcome": "change", "notes": "客户同意延期 customer accepts later delivery", "category": "later",
        "affected_departments": ["production"], "customer_confirmed": True, "lines": changed,
    }, meaning="authored")
    assert response.status_code == 200, response.content
    assert [t["step"] for t in response.json()["next_tasks"]] == ["review_production"]
    review_round(api, pid, departments=["production"])
    assert approve(api, pid).status_code == 200
    review = OrderReview.objects.get(record__process_id=pid)
    assert review.rounds.count() == 2
    notice = review.change_notices.get()
    assert notice.status == "approved" and notice.record.number.startswith("CCN-")
    assert str(review.lines.get(position=1).delivery_date) == changed[0]["delivery_date"]


def test_negotiation_leaving_out_an_objecting_department_is_refused(api, order_data):
    pid = start(api, order_data)["process"]
    review_round(api, pid, verdicts={"production": "conditions"})
    response = do(api["market"], pid, "negotiate", {
        "outcome": "change", "notes": "x", "category": "later", "affected_departments": ["quality"],
        "customer_confirmed": True, "lines": order_data()["lines"]}, meaning="authored")
    assert response.status_code == 400
    assert "affected_departments" in response.json()["errors"]
    assert OrderReview.objects.get(record__process_id=pid).change_notices.count() == 0


def test_declined_order_closes_with_reason(api, order_data):
    pid = start(api, order_data)["process"]
    review_round(api, pid, verdicts={"engineering": "cannot_meet"})
    response = do(api["market"], pid, "negotiate", {"outcome": "declined", "notes": "客户不接受 customer refuses"},
                  meaning="authored")
    assert response.status_code == 200, response.content
    assert response.json()["process_status"] == "DONE"
    review = OrderReview.objects.get(record__process_id=pid)
    assert review.status == OrderReviewStatus.DECLINED
    assert review.declined_reason == "客户不接受 customer refuses"
    assert not LedgerEntry.objects.filter(order_review=review).exists()


def test_contract_goes_to_the_general_manager_not_the_market_manager(api, order_data):
    pid = start(api, order_data, kind="contract")["process"]
    review_round(api, pid)
    assert all(t["process"] != pid for t in api["market_mgr"].get("/api/tasks/?queue=1").json())
    assert approve(api, pid, who="gm").status_code == 200
    sig = Signature.objects.filter(meaning="approved", record_version__record__process_id=pid).get()
    assert sig.printed_name == "周强 Zhou Qiang" and "General Manager" in sig.role


def test_change_after_approval_is_re_reviewed_approved_and_revises_the_ledger(api, order_data, future):
    started = start(api, order_data)
    pid = started["process"]
    review_round(api, pid)
    approve(api, pid)
    plan(api, pid, future)
    lines = order_data()["lines"]
    lines[0]["quantity"] = "800"
    response = api["market2"].post("/api/order-reviews/change/", {
        "order": started["record"], "category": "increase", "reason": "客户加量 customer adds 300 pcs",
        "affected_departments": ["production", "materials"], "customer_confirmed": True, "lines": lines,
        "signature": signature("market2", "authored")}, format="json")
    assert response.status_code == 201, response.content
    change_pid = response.json()["process"]
    review = OrderReview.objects.get(record__number=started["record"])
    assert review.status == OrderReviewStatus.CHANGE_IN_REVIEW
    review_round(api, change_pid, departments=["production", "materials"])
    assert approve(api, change_pid).status_code == 200
    review.refresh_from_db()
    assert review.status == OrderReviewStatus.APPROVED and review.revision == 1
    entry = LedgerEntry.objects.get(order_review=review)
    assert entry.revision == 1
    assert [r.revision for r in entry.revisions.all()] == [0, 1]
    assert entry.total_amount == 800 * 12.5 + 300 * 8
    assert AuditEntry.objects.filter(action="ledger.revised", record=review.record).exists()
