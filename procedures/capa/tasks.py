"""Scheduled job of P3 (Celery beat, config/settings/celery.py): overdue corrective actions."""
import logging

from celery import shared_task
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import quality_managers
from core import audit

from procedures.capa import actions as p3

logger = logging.getLogger(__name__)


@shared_task
def remind_overdue_capa_actions():
    """CA-5: one reminder per overdue action and due date, to its owner and the Quality
    manager(s), through the notification centre (in-app and e-mail as each person
    chose, in their own language); audited. Returns the number of actions reminded.
    (The generic escalation of the action's task — department manager, then Quality
    manager / General Manager — runs beside it in inbox.escalation.)"""
    from inbox.models import NotificationKind
    from inbox.notify import notify
    from inbox.signals import process_link

    managers = list(quality_managers())
    reminded = 0
    for action in p3.overdue_actions():
        if action.reminded_for == action.due_date:
            continue  # already reminded for this due date (an approved extension re-arms it)
        recipients = {action.owner.pk: action.owner, **{m.pk: m for m in managers}}
        params = {"action": action.description, "number": action.case.record.number,
                  "position": action.position, "owner": action.owner.printed_name, "due": action.due_date}
        with transaction.atomic():
            for user in recipients.values():
                notify(user, NotificationKind.ESCALATION, TITLE, BODY, params,
                       link=process_link(action.case.record.process), process=action.case.record.process)
            action.reminded_for = action.due_date
            action.save(update_fields=["reminded_for"])
            audit.log("capa.action_overdue_reminded", action, record=action.case.record,
                      process_id=action.case.record.process_id,
                      new={"owner": action.owner.username, "due": action.due_date,
                           "to": sorted(u.username for u in recipients.values())})
        reminded += 1
    return reminded


TITLE = _("Overdue corrective action %(number)s #%(position)s")
BODY = _("The action \"%(action)s\" of %(number)s, owned by %(owner)s, was due on %(due)s "
         "and is not done. Please complete it or ask for an extension.")
