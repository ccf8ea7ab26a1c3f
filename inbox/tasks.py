"""Scheduled jobs of the inbox (Celery beat, see config/settings/celery.py)."""
from celery import shared_task

from . import escalation


@shared_task
def send_reminders_and_escalations():
    """Reminders before due and escalations of overdue tasks; returns how many tasks sent something."""
    return len(escalation.send_reminders_and_escalations())
