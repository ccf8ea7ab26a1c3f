"""The periodic progress report of customer requirements (进度监控和报告, 制度 七): the figures of
one period, computed here once for the page, the API (GET /api/requirements/report/), the CSV and
the monthly job (tasks.send_progress_report).

Dates: registered = the day the requirement was entered (created_at); approved / rejected = the
day of the decision (decided_at); completed / withdrawn = the day it was closed (closed_at); all in
the local time zone. "Open" and "overdue" are as of the period's last day (today for a period not
over yet): open = registered by then and not closed by then; overdue = approved by then, its due
date passed by then, not closed by then. Linked duplicates are counted apart and nowhere else."""
import calendar
import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from core.rest import params
from forms import sheets

from .models import PriorityClass, RequirementStatus, RequirementType
from .subjects import customer as customer_label


def month_of(day):
    """(first day, last day) of the month of `day`."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def previous_month(today=None):
    first = (today or timezone.localdate()).replace(day=1)
    return month_of(first - datetime.timedelta(days=1))


def period_from(query, today=None):
    """(from, to) of the query's `from` / `to` (YYYY-MM-DD); the current month by default, a
    missing end filled from the other. Refused (ValidationError) when `from` is after `to`."""
    today = today or timezone.localdate()
    start, end = params.date(query, "from"), params.date(query, "to")
    if start is None and end is None:
        return month_of(today)
    if start is None:
        start = month_of(end)[0]
    if end is None:
        end = month_of(start)[1]
    if start > end:
        raise ValidationError({"to": [_("The end of the period is before its start.")]})
    return start, end


def _day(moment):
    return timezone.localdate(moment) if moment else None


def _average(days):
    return round(sum(days) / len(days), 1) if days else None


@dataclass
class Group:
    key: str
    label: str
    registered: int = 0
    open: int = 0


@dataclass
class OverdueRow:
    number: str
    customer: str
    priority: str
    owner: str
    due_date: datetime.date
    days_overdue: int


@dataclass
class ProgressReport:
    date_from: datetime.date
    date_to: datetime.date
    as_of: datetime.date
    registered: int = 0
    approved: int = 0
    rejected: int = 0
    completed: int = 0
    withdrawn: int = 0
    duplicates: int = 0
    open: int = 0
    overdue: int = 0
    days_to_approval: float | None = None
    days_to_completion: float | None = None
    by_priority: list = field(default_factory=list)
    by_type: list = field(default_factory=list)
    by_customer: list = field(default_factory=list)
    overdue_rows: list = field(default_factory=list)

    COUNTS = ("registered", "approved", "rejected", "completed", "withdrawn", "duplicates", "open", "overdue")

    def figures(self):
        """[(key, label, value)] of the headline figures, in the report's order."""
        labels = {"registered": _("Registered"), "approved": _("Approved"), "rejected": _("Rejected"),
                  "completed": _("Completed"), "withdrawn": _("Withdrawn"), "duplicates": _("Linked as duplicates"),
                  "open": _("Open at the end of the period"), "overdue": _("Overdue at the end of the period"),
                  "days_to_approval": _("Average days from registration to approval"),
                  "days_to_completion": _("Average days from approval to completion")}
        keys = (*self.COUNTS, "days_to_approval", "days_to_completion")
        return [(key, labels[key], getattr(self, key)) for key in keys]

    def as_data(self):
        def groups(rows):
            return [{"key": g.key, "label": g.label, "registered": g.registered, "open": g.open} for g in rows]

        return {
            "from": self.date_from, "to": self.date_to, "as_of": self.as_of,
            **{key: getattr(self, key) for key in self.COUNTS},
            "average_days_registered_to_approved": self.days_to_approval,
            "average_days_approved_to_completed": self.days_to_completion,
            "by_priority": groups(self.by_priority), "by_type": groups(self.by_type),
            "by_customer": groups(self.by_customer),
            "overdue_requirements": [{"number": r.number, "customer": r.customer, "priority": r.priority,
                                      "owner": r.owner, "due_date": r.due_date, "days_overdue": r.days_overdue}
                                     for r in self.overdue_rows],
        }


def progress_report(requirements, date_from, date_to, today=None):
    """The figures of the period [date_from, date_to] over `requirements` (a CustomerRequirement
    queryset: those the reader may see; every one for the monthly job). One query."""
    today = today or timezone.localdate()
    as_of = min(date_to, today)
    report = ProgressReport(date_from=date_from, date_to=date_to, as_of=as_of)
    rows = requirements.filter(created_at__date__lte=date_to).select_related("record", "customer", "owner") \
        .order_by("pk")
    priorities = {c: Group(c, str(PriorityClass(c).label)) for c in PriorityClass.values}
    priorities[""] = Group("", _("Not yet classified"))
    types = {t: Group(t, str(RequirementType(t).label)) for t in RequirementType.values}
    customers = {}
    to_approval, to_completion = [], []

    def during(day):
        return day is not None and date_from <= day <= date_to

    for req in rows:
        registered, decided, closed = _day(req.created_at), _day(req.decided_at), _day(req.closed_at)
        if req.status == RequirementStatus.DUPLICATE:
            report.duplicates += during(registered)
            continue
        new = during(registered)
        still_open = registered <= as_of and not (closed and closed <= as_of)
        report.registered += new
        report.open += still_open
        if req.decision == "approved" and during(decided):
            report.approved += 1
            to_approval.append((decided - registered).days)
        if req.decision == "rejected" and during(decided):
            report.rejected += 1
        if req.status == RequirementStatus.COMPLETED and during(closed):
            report.completed += 1
            if decided:
                to_completion.append((closed - decided).days)
        if req.status == RequirementStatus.WITHDRAWN and during(closed):
            report.withdrawn += 1
        if (still_open and req.decision == "approved" and decided <= as_of and req.due_date
                and req.due_date < as_of):
            report.overdue += 1
            report.overdue_rows.append(OverdueRow(req.record.number, customer_label(req), req.priority,
                                                  req.owner.printed_name if req.owner_id else "", req.due_date,
                                                  (as_of - req.due_date).days))
        name = customer_label(req)
        key = req.customer.code if req.customer_id else name
        for group in (priorities[req.priority], types[req.requirement_type],
                      customers.setdefault(key, Group(req.customer.code if req.customer_id else "", name))):
            group.registered += new
            group.open += still_open
    report.days_to_approval, report.days_to_completion = _average(to_approval), _average(to_completion)
    report.by_priority = [g for g in priorities.values() if g.registered or g.open]
    report.by_type = [g for g in types.values() if g.registered or g.open]
    report.by_customer = sorted((g for g in customers.values() if g.registered or g.open),
                                key=lambda g: (-g.registered, -g.open, g.label))
    report.overdue_rows.sort(key=lambda r: (r.due_date, r.number))
    return report


def write_csv(report, out):
    """The report as CSV (UTF-8 with BOM for spreadsheets): the figures, the groups, the overdue list."""
    writer = sheets.csv_writer(out)
    writer.writerow([_("Customer requirement progress report"), report.date_from.isoformat(),
                     report.date_to.isoformat()])
    writer.writerow([_("Figure"), _("Value")])
    for _key, label, value in report.figures():
        writer.writerow([label, "" if value is None else value])
    for title, groups in ((_("By priority class"), report.by_priority), (_("By requirement type"), report.by_type),
                          (_("By customer"), report.by_customer)):
        writer.writerow([])
        writer.writerow([title, _("Registered"), _("Open at the end of the period")])
        for group in groups:
            writer.writerow([group.label, group.registered, group.open])
    writer.writerow([])
    writer.writerow([_("Overdue requirements"), _("Customer"), _("Priority class"), _("Owner"), _("Due date"),
                     _("Days overdue")])
    for row in report.overdue_rows:
        writer.writerow([row.number, row.customer, row.priority, row.owner, row.due_date.isoformat(),
                         row.days_overdue])
