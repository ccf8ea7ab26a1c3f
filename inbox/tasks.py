"""Scheduled jobs of the inbox (Celery beat, see config/settings/celery.py)."""
from celery import shared_task

from . import drafts, escalation, services


@shared_task
def send_reminders_and_escalations():
    """Reminders before due and escalations of overdue tasks; returns how many tasks sent something."""
    return len(escalation.send_reminders_and_escalations())


@shared_task
def warn_about_calendar_gaps():
    """Tell the Quality managers (once per year) that a year's holidays are not entered."""
    return services.warn_about_calendar_gaps()


@shared_task
def drop_drafts_of_finished_tasks():
    """Drafts left behind on finished tasks (inbox.drafts): dropped, audited; returns how many."""
    return drafts.drop_drafts_of_finished_tasks()
