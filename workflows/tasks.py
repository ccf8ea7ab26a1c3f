"""The engine's scheduled job (Celery beat, config/settings/celery.py): viewflow's timers."""
import logging

from celery import shared_task
from viewflow.workflow.timers import fire_due_timers

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def fire_workflow_timers():
    """Fire viewflow's due flow.Timer tasks (scheduled every minute by Celery beat).
    Returns the number fired."""
    fired = fire_due_timers()
    if fired:
        logger.info("fired %d workflow timer(s)", fired)
    return fired
