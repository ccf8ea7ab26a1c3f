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


def test_the_lines_an_action_just_wrote_are_recorded_as_the_database_gives_them_back(people, order_data):
    """receive_order and a restore keep the lines they write on the order (OrderReview.keep_lines) instead of
    reading them back: the version they record must be the one a fresh read of the order gives."""
    from core.canonical import jsonable
    from procedures.order_review.actions import _restore_lines
    from procedures.order_review.models import OrderReview
    from procedures.order_review.records import order_review_snapshot

    process = start(people["market"], order_data(number="PO-KEEP-1", quantity="1250.5"))
    review = OrderReview.objects.get(pk=order_review_of(process).pk)
    stored = review.record.get_version().data
    assert stored["lines"] == jsonable(order_review_snapshot(review))["lines"]
    assert stored["lines"][0]["quantity"] == "1250.5" and stored["is_sample"] is False
    _restore_lines(review, stored["lines"])  # text, as a version holds them
    kept = jsonable(order_review_snapshot(review))  # sample rule and total computed from the kept lines
    assert kept == jsonable(order_review_snapshot(OrderReview.objects.get(pk=review.pk)))
    assert kept["lines"] == stored["lines"] and kept["total_amount"] == stored["total_amount"]
