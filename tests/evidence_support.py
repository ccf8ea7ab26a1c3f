"""Shared fixtures of the evidence tests: an approved P1 record and auditors."""
import datetime

import pytest
from django.utils import timezone

from accounts.models import User
from evidence.grants import grant_auditor_access
from p1_driver import act, review_all, start

AUDITOR_PASSWORD = "Auditor-pass-2026"


def approved_order(people, order_data, number="PO-EV-001", customer="C001"):
    process = start(people["market"], order_data(number=number, customer=customer))
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "同意 OK"}, meaning="approved")
    from procedures.order_review.models import order_review_of

    record = order_review_of(process).record
    record.refresh_from_db()
    return record


def make_auditor(people, username="auditor", **scope):
    user = User.objects.create_user(username, password=AUDITOR_PASSWORD, display_name="审核员 External Auditor")
    grant_auditor_access(user, granted_by=people["admin"], reason="ISO 9001 surveillance audit 2026",
                         valid_from=scope.pop("valid_from", timezone.now() - datetime.timedelta(hours=1)),
                         valid_until=scope.pop("valid_until", timezone.now() + datetime.timedelta(days=5)), **scope)
    return user


def other_record_type(record):
    """A registered record type that is not `record`'s (a grant scoped to it does not show the record)."""
    from core import registry

    return next(rt.code for rt in registry.all_types() if rt.code != record.record_type)


@pytest.fixture
def record(people, order_data):
    return approved_order(people, order_data)


@pytest.fixture
def auditor(people):
    return make_auditor(people)
