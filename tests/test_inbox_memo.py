"""inbox/memo.py: what one engine call reads once (step targets, calendar, preferences, subjects)
is never reused across transactions nor after a row it may depend on was saved."""
import pytest
from django.db import transaction
from viewflow.workflow.models import Process

from inbox import memo
from inbox.models import CalendarDay, StepTarget

pytestmark = pytest.mark.django_db(transaction=True)


def process():
    from procedures.order_review.flows import OrderReviewFlow
    return Process.objects.create(flow_class=OrderReviewFlow)


def test_one_transaction_shares_the_memo_and_the_next_one_does_not():
    proc = process()
    with transaction.atomic():
        first = memo.call_memo(proc)
        first["calendar"] = "read once"
        assert memo.call_memo(proc) is first
    with transaction.atomic():
        assert memo.call_memo(proc) == {}  # the block it was made in has closed


def test_outside_a_transaction_nothing_is_kept():
    proc = process()
    values = memo.call_memo(proc)
    values["x"] = 1
    assert memo.call_memo(proc) == {}


def test_a_save_of_another_row_drops_the_memo_but_a_new_task_s_rows_do_not():
    proc = process()
    with transaction.atomic():
        values = memo.call_memo(proc)
        values["target"] = "old"
        process()  # any other row: it may be what was read
        assert memo.call_memo(proc) == {}
        values = memo.call_memo(proc)
        values["target"] = "again"
        StepTarget.objects.create(flow="OrderReviewFlow", step="review_quality", working_days=3)
        assert memo.call_memo(proc) == {}


def test_a_deleted_calendar_day_drops_the_memo():
    import datetime
    day = CalendarDay.objects.create(date=datetime.date(2026, 12, 31), kind="holiday")
    proc = process()
    with transaction.atomic():
        memo.call_memo(proc)["calendar"] = [day.date]
        CalendarDay.objects.filter(pk=day.pk).delete()
        assert memo.call_memo(proc) == {}


def test_a_rolled_back_savepoint_drops_the_memo():
    proc = process()
    with transaction.atomic():
        try:
            with transaction.atomic():
                memo.call_memo(proc)["subject"] = "inside"
                raise RuntimeError
        except RuntimeError:
            pass
        assert memo.call_memo(proc) == {}
