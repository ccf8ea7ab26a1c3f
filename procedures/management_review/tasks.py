"""The management review's scheduled job (Celery beat, config/settings/celery.py)."""
import datetime
import logging

from celery import shared_task
from django.db import transaction

from accounts.models import scheduler_user
from core.context import acting_as

from . import actions as mr
from .flows import ManagementReviewFlow

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def compile_scheduled_management_review(today=None, months=6):
    """CA-7: compile the input pack of the `months` full months before `today` (the beat entry's
    kwargs, QMS_MANAGEMENT_REVIEW_MONTHS) and queue it to the Quality manager for signing.
    Idempotent: a period the schedule already compiled is not compiled again. Returns the record
    number, or None."""
    day = datetime.date.fromisoformat(today) if today else None
    period_start, period_end = mr.previous_period(day, months=int(months))
    if mr.scheduled_review_exists(period_start, period_end):
        logger.info("management review %s – %s already compiled", period_start, period_end)
        return None
    actor = scheduler_user()
    with acting_as(actor), transaction.atomic():
        process = ManagementReviewFlow.start_scheduled.run(period_start=period_start, period_end=period_end,
                                                           actor=actor)
    return mr.review_number(process)
