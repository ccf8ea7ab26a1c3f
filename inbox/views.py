"""Browser pages of the inbox: the task lists with their due dates, the personal
dashboard, notifications and their preferences, step targets and the company
calendar. Thin adapters over services.py and notify.py."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError
from django_filters import BooleanFilter, ChoiceFilter, DateFilter, DateRangeFilter, FilterSet, NumberFilter
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow.views.list import WorkflowArchiveListView, WorkflowInboxListView, WorkflowQueueListView

from viewflow.utils import viewprop
from viewflow.workflow.models import Process, Task

from core.deferred import DeferredRows
from core.errors import DomainError
from core.paging import address
from core.registry import flows

from . import due as due_column
from . import notify, queues, rows, services
from .escalation import task_link
from .signals import process_link
from .models import CalendarDay, Notification, NotificationKind


# --- inbox and queue: the rows every task list shows ----------------------------------------------------


def _step_choices():
    """Every human step of every flow, named as viewflow's filter names them: from the code, not
    a DISTINCT over the list on every page view."""
    return [(get_task_ref(node), f"{node.flow_class.process_title}/{node.name.title()}")
            for flow, node in services.human_steps()]


class ProcessAndStepFilter(FilterSet):
    """What every task list filters by, without viewflow's queries over the whole list: the process, asked by
    number (viewflow's filter lists every process of the list as an option: megabytes of HTML for a busy queue),
    and the step, among every human step of the flows (viewflow's runs a DISTINCT over the list)."""

    process = NumberFilter(field_name="process_id", label=gettext_lazy("Process"), min_value=1)
    flow_task = ChoiceFilter()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["flow_task"].field.choices = _step_choices()


class DueTaskListFilter(ProcessAndStepFilter):
    """The inbox's and the queue's filter: process, step, created, overdue, due on or before."""

    created = DateRangeFilter()
    overdue = BooleanFilter(label=gettext_lazy("Overdue"), method="filter_overdue")
    due_before = DateFilter(label=gettext_lazy("Due on or before"), method="filter_due_before")

    class Meta:
        model = Task
        fields = ("process", "flow_task", "created")

    def filter_overdue(self, queryset, name, value):
        return services.filter_due(queryset, overdue=value)

    def filter_due_before(self, queryset, name, value):
        return services.filter_due(queryset, due_before=value)


class TaskRowsMixin:
    """viewflow's inbox and queue (filters, paging, the flows' start menu) with the rows every task
    list shows (templates/inbox/_task_rows.html): subject, step, due date, days overdue, age,
    owner, and the row's action. Soonest due first; ?_orderby=due / -due sorts by the due date.
    The subjects, deadlines, processes and owners of a page come in a fixed number of queries."""

    template_name = "inbox/task_list.html"
    filterset_class = DueTaskListFilter
    columns = ("due",)  # drawn by the template; named here for viewflow's ?_orderby=
    ordering = due_column.order()
    table_id = "tasks"
    empty_text = gettext_lazy("Nothing here.")

    def due(self, task):
        return ""

    due.short_description = gettext_lazy("Due")
    due.orderby_column = F(due_column.ANNOTATION)

    def get_queryset(self):
        return due_column.with_due(super().get_queryset().select_related(*rows.ROW_RELATED))

    def get_ordering(self):
        """?_orderby=due / -due as the lists' own order (inbox.due.order: tasks without a due date last either
        way, the id breaking ties), so that no page repeats or skips a row; viewflow's column sort adds neither."""
        requested = self.request.GET.get(self.ordering_kwarg)
        if requested in ("due", "-due"):
            return list(due_column.order(descending=requested == "-due"))
        return super().get_ordering()

    def paginate_queryset(self, queryset, page_size):
        """The page chosen on the task table alone, then its rows read with their joins; the total counted by the
        scan that chooses the first page (core.deferred)."""
        return super().paginate_queryset(DeferredRows(queryset, page_size), page_size)

    def due_sort(self):
        current = self.request.GET.get(self.ordering_kwarg, "")
        query = self.request.GET.copy()
        query.pop(self.page_kwarg, None)
        query[self.ordering_kwarg] = "-due" if current == "due" else "due"
        return {"url": f"?{query.urlencode()}", "state": {"due": "asc", "-due": "desc"}.get(current)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if set(self.request.GET) <= {self.page_kwarg, self.ordering_kwarg} and context.get("paginator"):
            # the whole list, unfiltered: the menu's count of it is this one
            services.remember_total(self.request, self.list_name, context["paginator"].count, self.flow_classes)
        context.update(task_rows=rows.attach_subjects(context["object_list"]), now=timezone.now(),
                       rows_template="inbox/_task_rows.html", table_id=self.table_id, due_sort=self.due_sort(),
                       empty=self.empty_text)
        return context


class DueInboxListView(TaskRowsMixin, WorkflowInboxListView):
    list_name = "inbox"
    table_id = "inbox-tasks"
    empty_text = gettext_lazy("No tasks in your inbox.")
    filterset_class = DueTaskListFilter

    @viewprop
    def queryset(self):
        """viewflow's inbox (assigned to me, in a flow I may view), without its join with the
        process table (inbox.queues.of_flows)."""
        return services.inbox_of(self.request.user, self.flow_classes)


class DueQueueListView(TaskRowsMixin, WorkflowQueueListView):
    list_name = "queue"
    table_id = "queue-tasks"
    empty_text = gettext_lazy("Nothing waiting in your queues.")

    @viewprop
    def queryset(self):
        """The tasks the user may claim: the engine's one rule (inbox.queues.queue_for)."""
        return services.queue_of(self.request.user, self.flow_classes)


class ArchiveFilter(ProcessAndStepFilter):
    """The archive's filter: process, step, completed on. viewflow's own (step, started, completed) listed its
    steps by a DISTINCT over every task the person completed (31 ms at 1 M tasks); the date asked here is when the
    task was completed, not when it was created."""

    finished = DateRangeFilter(label=gettext_lazy("Completed"))

    class Meta:
        model = Task
        fields = ("process", "flow_task", "finished")


class CompletedListView(WorkflowArchiveListView):
    """The archive: every task I completed, last finished first (the list behind the dashboard's "Recently
    completed by me" and GET /api/dashboard/completed/: the same tasks and the same count). viewflow's archive
    counted and listed them through a join with the process table and read each row's summaries one query at a
    time; here the page is chosen and counted on the done tasks' index (core.deferred, workflows migration 0008)
    and the subjects of a page come in one call per flow (inbox/rows.py)."""

    template_name = "inbox/task_list.html"
    filterset_class = ArchiveFilter
    columns = ()  # the rows are drawn by inbox/_completed_rows.html

    @viewprop
    def queryset(self):
        return services.COMPLETED_ORDER.order(services.completed_by(self.request.user, self.flow_classes))

    def paginate_queryset(self, queryset, page_size):
        return super().paginate_queryset(DeferredRows(queryset, page_size), page_size)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(task_rows=rows.attach_subjects(context["object_list"]),
                       rows_template="inbox/_completed_rows.html", table_id="archive-tasks")
        return context


# --- one click from a queue row to the form, and back ---------------------------------------------------


def _open_human_task(pk):
    return get_object_or_404(Task.objects.select_related("process"), pk=pk, flow_task_type="HUMAN",
                             process__flow_class__in=flows())


def _refused(request, error):
    """A claim or release that was not allowed: the reason, nothing changed (403 / 409)."""
    return render(request, "inbox/refused.html", {"message": error.message}, status=error.status_code)


@login_required
@require_POST
def claim_and_open(request, pk):
    """Claim a task from the queue and open its form in one click. Who may claim is the engine's
    one rule (workflows.actions.claim_task); a refusal says why and changes nothing."""
    task = _open_human_task(pk)
    try:
        queues.claim(task, actor=request.user)
    except DomainError as error:
        return _refused(request, error)
    return redirect(task.flow_task.reverse("execute", args=[task.process_id, task.pk]))


@login_required
@require_POST
def release(request, pk):
    """Give back a task one holds (workflows.actions.release_task): to its queue, or to the absent
    colleague it belongs to."""
    task = _open_human_task(pk)
    try:
        queues.release(task, actor=request.user)
    except DomainError as error:
        return _refused(request, error)
    task.refresh_from_db()
    subject = rows.subject_of(task)
    if task.owner_id:
        messages.success(request, _("%(subject)s: handed back to %(name)s.") % {
            "subject": subject, "name": task.owner.printed_name})
    else:
        messages.success(request, _("%(subject)s: back in the queue of %(queue)s.") % {
            "subject": subject, "queue": rows.queue_label(task.owner_permission)})
    return redirect("qms:inbox")


# --- dashboard ---------------------------------------------------------------------------------------


def _more(shown, total, *links):
    """Under a dashboard list that shows only its first rows: how many it has in all and the links
    [(address, label)] to the whole list, paged (templates/inbox/_more.html); None when all are shown."""
    return {"shown": shown, "total": total, "links": links} if total > shown else None


def dashboard_more(data):
    """The "Showing 10 of N" line of each dashboard list, with where the whole list is."""
    totals = data["totals"]
    late_mine, late_queued = totals["overdue_mine"], totals["overdue_queued"]
    overdue_links = []
    if late_mine:
        overdue_links.append((f"{reverse('qms:inbox')}?overdue=true", ngettext(
            "%(total)s overdue in my inbox", "%(total)s overdue in my inbox", late_mine) % {"total": late_mine}))
    if late_queued:
        overdue_links.append((f"{reverse('qms:queue')}?overdue=true", ngettext(
            "%(total)s overdue in my queues", "%(total)s overdue in my queues", late_queued) % {"total": late_queued}))
    return {
        "overdue": _more(len(data["overdue"]), totals["overdue"], *overdue_links),
        "mine": _more(len(data["mine"]), totals["mine"], (reverse("qms:inbox"), _("Open my inbox"))),
        "queued": _more(len(data["queued"]), totals["queued"], (reverse("qms:queue"), _("Open my queues"))),
        "completed": _more(len(data["completed"]), totals["completed"],
                           (reverse("qms:archive"), _("All the tasks I completed"))),
        "processes": _more(len(data["processes"]), totals["processes"],
                           (reverse("qms:dashboard:started"), _("All the processes I started"))),
    }


@login_required
def dashboard(request):
    context = services.dashboard(request.user, limit=services.DASHBOARD_ROWS)
    services.remember_total(request, "inbox", context["totals"]["mine"])  # the menu's counts (services.MenuCount)
    services.remember_total(request, "queue", context["totals"]["queued"])
    context["more"] = dashboard_more(context)
    if services.can_edit_targets(request.user):
        context["calendar_gaps"] = services.calendar_gaps()
    return render(request, "inbox/dashboard.html", context)


def _next_page_link(request, page):
    """The address of the page after `page` (this request's filters kept), or None on the last."""
    return address(request, "cursor", page.next_cursor) if page.next_cursor else None


def _keyset_page(request, order, rows, stale):
    """One page of `rows` in `order` from the request's ?cursor=; a stale or altered cursor (the list
    changed, an old bookmark) starts again from the first page with the message `stale`."""
    try:
        return order.page(rows, request)
    except ValidationError:
        messages.warning(request, stale)
        return order.page(rows)


@login_required
def started(request):
    """Every process I started, newest first, a page at a time: where each one stands (its open steps,
    who holds them, their due dates). The dashboard shows the newest few and links here."""
    page = _keyset_page(request, services.STARTED_ORDER, services.started_by(request.user),
                        _("That page no longer exists; here is the first page."))
    return render(request, "inbox/started.html", {"processes": services.where_they_stand(page.rows),
                                                  "total": page.count, "more": _next_page_link(request, page),
                                                  "now": timezone.now()})


@login_required
def open_task(request, pk):
    """Redirect to a task's page (which checks the user's access itself)."""
    task = get_object_or_404(Task, pk=pk)
    url = task_link(task)
    if not url:
        raise Http404
    return redirect(url)


@login_required
def open_process(request, pk):
    process = get_object_or_404(Process, pk=pk)
    url = process_link(process)
    if not url:
        raise Http404
    return redirect(url)


# --- notifications -----------------------------------------------------------------------------------


@login_required
def notification_list(request):
    rows = Notification.objects.filter(recipient=request.user)
    if request.GET.get("unread") in ("1", "true"):
        rows = rows.filter(read_at__isnull=True)
    page = _keyset_page(request, notify.NOTIFICATION_ORDER, rows,
                        _("That page of notifications no longer exists; here is the first page."))
    return render(request, "inbox/notifications.html", {"notifications": page.rows, "total": page.count,
                                                         "more": _next_page_link(request, page),
                                                         # the menu's badge shows it too (inbox templatetags)
                                                         "unread_notifications": notify.unread_count(request.user)})


@login_required
@require_POST
def notification_read(request, pk):
    if not notify.mark_read(request.user, pk) and not Notification.objects.filter(recipient=request.user,
                                                                                  pk=pk).exists():
        raise PermissionDenied  # someone else's, or none at all: the same answer
    target = Notification.objects.filter(recipient=request.user, pk=pk).values_list("link", flat=True).first()
    if request.POST.get("open") and target:
        return redirect(target)
    return redirect("qms:notifications:index")


@login_required
@require_POST
def notification_read_all(request):
    count = notify.mark_read(request.user)
    messages.success(request, _("%(count)s notifications marked read.") % {"count": count})
    return redirect("qms:notifications:index")


@login_required
def preferences(request):
    if request.method == "POST":
        changes = {kind: {"email": f"{kind}-email" in request.POST, "in_app": f"{kind}-in_app" in request.POST}
                   for kind in NotificationKind.values}
        notify.set_preferences(request.user, changes)
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("qms:notifications:preferences")
    prefs = notify.preferences_of(request.user)
    rows = [{"kind": kind, "label": label, **prefs[kind]} for kind, label in NotificationKind.choices]
    return render(request, "inbox/preferences.html", {"rows": rows})


# --- step targets and calendar (Quality manager) ------------------------------------------------------


def _require_editor(user):
    if not services.can_edit_targets(user):
        raise PermissionDenied


@login_required
def targets(request):
    _require_editor(request.user)
    errors, error = {}, None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "target":
                flow, step = request.POST.get("flow", ""), request.POST.get("step", "")
                services.set_step_target(actor=request.user, flow=flow, step=step,
                                         values={f: request.POST.get(f, "") for f in services.TARGET_FIELDS},
                                         reason=request.POST.get("reason", ""))
            elif request.POST.get("action") == "add_day":
                services.add_calendar_day(actor=request.user,
                                          date=services.parse_date(request.POST.get("date"), "date"),
                                          kind=request.POST.get("kind", ""), name_zh=request.POST.get("name_zh", ""),
                                          name_en=request.POST.get("name_en", ""))
            elif request.POST.get("action") == "remove_day":
                services.remove_calendar_day(actor=request.user, pk=int(request.POST.get("pk") or 0))
            messages.success(request, _("Saved."))
            return redirect("qms:targets:index")
        except DomainError as problem:
            error, errors = problem.message, problem.field_errors
    return render(request, "inbox/targets.html", {
        "table": services.target_table(), "days": CalendarDay.objects.order_by("date"),
        "kinds": CalendarDay.Kind.choices, "error": error, "errors": errors,
        "calendar_gaps": services.calendar_gaps(),
    }, status=400 if error else 200)
