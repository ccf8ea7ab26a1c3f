"""P5's scheduled job (Celery beat, config/settings/celery.py): the monthly progress report of
customer requirements (进度监控和报告, 制度 七) to the Market manager(s)."""
import datetime

from celery import shared_task
from django.db import transaction
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Role, active_members
from core import audit
from core.models import AuditEntry
from inbox.models import NotificationKind
from inbox.notify import notify

from .models import CustomerRequirement
from .report import previous_month, progress_report

SENT = "requirement.progress_report_sent"
TITLE = _("Customer requirement progress report %(start)s – %(end)s")
BODY = _("Registered %(registered)s, approved %(approved)s, rejected %(rejected)s, completed %(completed)s, "
         "withdrawn %(withdrawn)s; open %(open)s, overdue %(overdue)s at the end of the period.")


@shared_task(acks_late=True)
def send_progress_report(today=None):
    """The figures of the previous month (report.progress_report over every requirement) to each
    active Market manager through the notification centre (in-app and e-mail as each chose, in
    their language), linked to the report page; audited. Idempotent: a month already reported is
    not sent again. Returns the number of people notified."""
    start, end = previous_month(datetime.date.fromisoformat(today) if today else None)
    key = f"{start.isoformat()}/{end.isoformat()}"
    if AuditEntry.objects.filter(action=SENT, object_id=key).exists():
        return 0
    report = progress_report(CustomerRequirement.objects.all(), start, end)
    managers = list(active_members(department=Department.MARKET, role=Role.MANAGER).order_by("username"))
    figures = {k: getattr(report, k) for k in report.COUNTS}
    link = reverse("qms:requirements:report") + "?" + urlencode({"from": start.isoformat(), "to": end.isoformat()})
    with transaction.atomic():
        for user in managers:
            notify(user, NotificationKind.REPORT, TITLE, BODY, {"start": start, "end": end, **figures}, link=link)
        audit.log(SENT, ("requirements.progress_report", key, f"progress report {key}"),
                  new={**figures, "from": start, "to": end, "to_users": [u.username for u in managers]})
    return len(managers)
