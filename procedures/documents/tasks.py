"""Scheduled jobs of document control (Celery beat, see config/settings/celery.py)."""
import logging

from celery import shared_task
from . import actions
from .flows import DocumentControlFlow

logger = logging.getLogger(__name__)


@shared_task
def open_periodic_reviews():
    """DOC-14: open a periodic-review task for the owner of every document whose review
    falls due within the lead time (default 30 days). Returns how many were opened."""
    opened = 0
    for document in actions.documents_due_for_review():
        DocumentControlFlow.start_periodic_review.run(document=document)
        opened += 1
    return opened


@shared_task
def remind_overdue_acknowledgements(every_days=7):
    """DOC-7: see actions.remind_overdue_acknowledgements. Returns the number of reminders."""
    return actions.remind_overdue_acknowledgements(every_days=every_days)
