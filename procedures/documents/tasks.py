"""Scheduled jobs of document control (Celery beat, see config/settings/celery.py)."""
import logging

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import audit

from . import actions

logger = logging.getLogger(__name__)


@shared_task
def open_periodic_reviews():
    """DOC-14: open a periodic-review task for the owner of every document whose review
    falls due within the lead time (default 30 days). Returns how many were opened."""
    from procedures.documents.flows import DocumentControlFlow

    opened = 0
    for document in actions.documents_due_for_review():
        DocumentControlFlow.start_periodic_review.run(document=document)
        opened += 1
    return opened


@shared_task
def remind_overdue_acknowledgements(every_days=7):
    """DOC-7: remind each person whose read-and-acknowledge is overdue, at most once a
    week per acknowledgement; each reminder is audited."""
    now = timezone.now()
    sent = 0
    for ack in actions.overdue_acknowledgements().select_related("user", "revision__document"):
        if ack.last_reminded_at and (now - ack.last_reminded_at).days < every_days:
            continue
        with translation.override(ack.user.preferred_language or "zh-hans"):
            subject = _("Please read and acknowledge %(doc)s revision %(rev)s") % {
                "doc": ack.revision.document.number, "rev": ack.revision.label}
            body = _("%(doc)s %(title)s revision %(rev)s has been in force since %(date)s. "
                     "Please read it and acknowledge it in your inbox (due %(due)s).") % {
                "doc": ack.revision.document.number, "title": ack.revision.document.title,
                "rev": ack.revision.label, "date": ack.revision.effective_date, "due": ack.due_date}
        if ack.user.email:
            send_mail(subject, body, None, [ack.user.email], fail_silently=True)
        with transaction.atomic():
            ack.last_reminded_at = now
            ack.save(update_fields=["last_reminded_at"])
            audit.log("document.acknowledgement_reminded", ack, record=ack.revision.record,
                      new={"user": ack.user.username, "due": ack.due_date})
        sent += 1
    return sent
