"""P2's scheduled job (Celery beat, see config/settings/celery.py): the periodic analysis."""
import datetime
import logging

from celery import shared_task
from django.db import transaction

from accounts.models import scheduler_user
from core.context import acting_as

from . import actions as p2
from .flows import ComplaintFlow

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def compile_periodic_complaint_analysis(today=None):
    """P2.7 [src 6.6.10]: compile the complaint and return analysis of the previous
    period (settings.QMS["COMPLAINT_ANALYSIS_MONTHS"] full months, default 1) and queue
    it to the Market manager for signing. Idempotent: a period already compiled by the
    schedule is not compiled again. Returns the record number, or None."""
    day = datetime.date.fromisoformat(today) if today else None
    period_start, period_end = p2.previous_period(day)
    if p2.analysis_exists(period_start, period_end):
        logger.info("complaint analysis %s – %s already compiled", period_start, period_end)
        return None
    actor = scheduler_user()
    with acting_as(actor), transaction.atomic():
        process = ComplaintFlow.start_scheduled_analysis.run(period_start=period_start, period_end=period_end,
                                                             actor=actor)
    return p2.complaint_analysis_number(process)
