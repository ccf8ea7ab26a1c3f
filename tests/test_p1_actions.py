"""P1 end to end through the action functions; the API and browser tests walk the same paths."""
import datetime

import pytest
from viewflow.workflow.status import PROCESS

from core.models import AuditEntry, Signature
from procedures.order_review.models import LedgerEntry, OrderReviewStatus
from p1_driver import act, review_all, start
from procedures.order_review.models import order_review_of

pytestmark = pytest.mark.django_db


def test_order_is_reviewed_by_four_departments_and_approved_by_market_manager(people, order_data):
    process = start(people["market"], order_data())
    review = order_review_of(process)
    assert review.record.number.startswith("OR-")
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "同意接单 Accepted"}, meaning="approved")
    act(process, "write_plan", people["materials"], {
        "planned_start": datetime.date.today().isoformat(),
        "planned_finish": order_data()["lines"][0]["delivery_date"],
        "material_readiness": "钢材已备 steel in stock"}, meaning="authored")
    process.refresh_from_db()
    review.refresh_from_db()
    assert review.status == OrderReviewStatus.APPROVED
    assert process.status == PROCESS.DONE
    assert LedgerEntry.objects.get(order_review=review).revision == 0
    signed = Signature.objects.filter(record_version__record=review.record)
    assert sorted(signed.values_list("signer_username", "meaning")) == [
        ("engineering", "reviewed"), ("market", "reviewed"), ("market_mgr", "approved"), ("materials", "reviewed"),
        ("production", "reviewed"), ("quality", "reviewed")]  # Market and the four departments, then the manager
    assert AuditEntry.objects.filter(record=review.record, action="esign.signed").count() == 6
