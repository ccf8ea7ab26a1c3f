"""Scheduled job of P3 (Celery beat, config/settings/celery.py): overdue corrective actions.
A Celery adapter: the rule and its audit entries are in actions.remind_overdue_actions."""
from celery import shared_task

from . import actions


@shared_task
def remind_overdue_capa_actions():
    """CA-5: see actions.remind_overdue_actions. Returns the number of actions reminded."""
    return actions.remind_overdue_actions()
