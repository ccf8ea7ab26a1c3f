"""A flow's own pages under /qms/flows/<flow>/, opened from the site menu: the board of its open tasks step by
step (the flow's index), the list of all its tasks (…/tasks/) and the list of its processes (…/flows/).

viewflow's versions read well for a demo and not at a plant's size: the board scanned the task table once per
step (2.3 s for the complaints board at 1 M tasks) and read each card's summary two queries at a time; the task
list counted every task of the flow through a join with the process table, listed its steps by a DISTINCT over
them, named the steps by their code names in English and the summary column "Process summary" in both
languages; the process list paged an unordered GROUP BY over every task of the flow (rows could repeat or go
missing from one page to the next). Here each page reads one index (workflows migration 0009), shows the
subject of each process the way every task list does (inbox.rows), and costs the same number of queries for a
page of 5 rows or of 25 (tests/test_flow_board_and_lists.py)."""
from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _
from django_filters import BooleanFilter, ChoiceFilter, DateRangeFilter, FilterSet, NumberFilter
from viewflow.utils import viewprop
from viewflow.workflow import STATUS, chart
from viewflow.workflow.status import PROCESS
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow.views.dashboard import DashboardProcessListView, DashboardTaskListView, DashboardView
from viewflow.workflow.flow.viewset import FlowViewset
from viewflow.workflow.models import Process, Task

from core.deferred import DeferredRows, rows_of_lists
from core.lookups import AnyOf
from inbox import rows

from .cancel import CancelProcessWithReasonView

# The tasks a board shows and counts (viewflow's rule): not finished, or stopped by an error.
OPEN = Q(finished__isnull=True) | Q(status=STATUS.ERROR)
# The steps the board has a column for (viewflow's): what people and the system do.
BOARD_TYPES = ("HUMAN", "JOB", "SUBPROCESS")
# The steps the task list lists: the board's and the starts. Gateways, functions and ends are the flow's wiring.
LISTED_TYPES = ("HUMAN_START", "START", *BOARD_TYPES)
BOARD_ROWS = 25
# What a card on the board page shows besides the task: its subject (the process) and its holder (the owner); no due
# date (inbox.table.board_cards). The API's board rows carry the due date too.
CARD_RELATED = ("process", "owner")


def nodes_of(flow_class, types):
    """The flow's nodes of `types`, in the order the flow runs them."""
    return [node for node in chart.topsort(flow_class)[0] if node.task_type in types]


def tasks_of(nodes):
    """The tasks of `nodes`, found by their node (the task_by_node / task_open_by_node indexes), not through the
    process table."""
    return Task.objects.filter(AnyOf(F("flow_task"), [get_task_ref(node) for node in nodes]))


def step_title(node):
    return str(node.task_title or node.name)


def closed_tasks(end_nodes):
    """The tasks that closed a process at one of `end_nodes`, newest first: read from the newest of every flow's
    finished end tasks (task_end_by_finished, workflows migration 0010), a few hundred entries whatever the years
    kept, where the node's own index would give every process the flow ever closed, to be sorted."""
    return tasks_of(end_nodes).filter(flow_task_type="END", finished__isnull=False).order_by("-finished", "-pk")


def board(flow_class, related=rows.ROW_RELATED):
    """The flow's board: {"columns": [{node, node_ref, title, count, tasks}], "end_nodes", "closed"}: a column per
    step with how many of its tasks are open (one grouped scan of task_open_by_node) and the BOARD_ROWS oldest of
    them; then the last BOARD_ROWS tasks that closed a process (closed_tasks). Every task with its subject, process
    and owner.
    Each column's tasks are chosen by their keys alone (an index-only scan of task_open_by_node), and the rows of
    all the columns and the closed list are then read in one query (core.deferred: the late row lookup), with
    `related` (a page whose cards show no due date leaves out the deadline)."""
    nodes = nodes_of(flow_class, BOARD_TYPES)
    counts = {}
    for node, n in tasks_of(nodes).filter(OPEN).order_by().values_list("flow_task").annotate(n=Count("pk")) \
            .values_list("flow_task", "n"):
        counts[node if isinstance(node, str) else get_task_ref(node)] = n
    columns = []
    for node in nodes:
        ref = get_task_ref(node)
        keys = list(Task.objects.filter(OPEN, flow_task=node).order_by("created", "pk")
                    .values_list("pk", flat=True)[:BOARD_ROWS]) if counts.get(ref) else []
        columns.append({"node": node, "node_ref": ref, "title": step_title(node), "keys": keys,
                        "count": counts.get(ref, 0)})
    end_nodes = nodes_of(flow_class, ("END",))
    closed_keys = list(closed_tasks(end_nodes).values_list("pk", flat=True)[:BOARD_ROWS]) if end_nodes else []
    *column_tasks, closed = rows_of_lists(Task.objects.select_related(*related),
                                          *[column.pop("keys") for column in columns], closed_keys)
    for column, tasks in zip(columns, column_tasks):
        column["tasks"] = tasks
    describe_tasks([*[task for column in columns for task in column["tasks"]], *closed])
    return {"columns": columns, "end_nodes": end_nodes, "closed": closed}


def flow_tasks(flow_class):
    """Every task of the flow's listed steps (LISTED_TYPES), with their process and owner."""
    return tasks_of(nodes_of(flow_class, LISTED_TYPES)).select_related(*rows.ROW_RELATED)


def describe_tasks(tasks):
    """Set `subject` (inbox.rows) and `status_label` (viewflow's status, in the reader's language) on each task of
    a page; the list, in one call of the flow's subjects()."""
    labels = dict(STATUS.choices)
    tasks = rows.attach_subjects(tasks)
    for task in tasks:
        task.status_label = labels.get(task.status, task.status)
    return tasks


def flow_processes(flow_class):
    """The flow's processes (process_by_flow)."""
    return Process.objects.filter(flow_class=flow_class)


def describe_processes(processes):
    """Set `subject`, `status_label` and `active_tasks_count` (its open tasks: one grouped query for the page) on
    each process of a page; the list."""
    processes = list(processes)
    open_counts = dict(Task.objects.filter(OPEN, process_id__in=[process.pk for process in processes])
                       .order_by().values_list("process_id").annotate(n=Count("pk")).values_list("process_id", "n"))
    labels = dict(PROCESS.choices)
    for process in processes:
        process.active_tasks_count = open_counts.get(process.pk, 0)
        process.status_label = labels.get(process.status, process.status)
    return rows.attach_process_subjects(processes)


class FlowDashboardView(DashboardView):
    """The board (`board()`): a column per step with the step's open tasks (oldest first: the longest waiting at
    the top) and how many there are, each card naming its subject and linking to the task's own page (its form for
    its owner, the claim page for one who may claim it); the flow's recently closed processes last."""

    def get_context_data(self, **kwargs):
        found = board(self.flow_class, related=CARD_RELATED)
        start_nodes = [{"node": node, "can_execute": node.can_execute(self.request.user)}
                       for node in self.flow_class.instance.get_start_nodes()]
        return super(DashboardView, self).get_context_data(
            columns=found["columns"], start_nodes=start_nodes, end_nodes=found["end_nodes"], finished=found["closed"],
            board_rows=BOARD_ROWS, **kwargs)


class FlowTaskFilter(FilterSet):
    """The task list's filter: the step (this flow's, from the code: viewflow's ran a DISTINCT over every task
    of the flow), open only, status, process number, created."""

    flow_task = ChoiceFilter(label=_("Step"), method="filter_step")
    open = BooleanFilter(label=_("Open only"), method="filter_open")
    status = ChoiceFilter(label=_("Status"), choices=STATUS.choices)  # named in locale/ (msgctxt "STATUS")
    process = NumberFilter(field_name="process_id", label=_("Process"), min_value=1)
    created = DateRangeFilter(label=_("Created"))

    class Meta:
        model = Task
        fields = ("flow_task", "open", "status", "process", "created")

    def __init__(self, *args, flow_class=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.nodes = {get_task_ref(node): node for node in nodes_of(flow_class, LISTED_TYPES)}
        self.filters["flow_task"].field.choices = [(ref, step_title(node)) for ref, node in self.nodes.items()]

    def filter_step(self, queryset, name, value):
        return queryset.filter(flow_task=self.nodes[value]) if value else queryset

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(OPEN) if value else queryset.exclude(OPEN)


class FlowTaskListView(DashboardTaskListView):
    """Every task of the flow's steps, newest first: subject, step, status, owner (or the queue it waits in),
    created and completed. The count and the page come from the task table alone."""

    template_name = "workflows/flow_task_list.html"
    filterset_class = FlowTaskFilter
    columns = ()  # the rows are drawn by workflows/_flow_task_rows.html
    title = _("Tasks")

    @viewprop
    def queryset(self):
        return flow_tasks(self.flow_class).order_by("-created", "-pk")

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "flow_class": self.flow_class}

    def paginate_queryset(self, queryset, page_size):
        # counted by its own query: a window over the page's scan made PostgreSQL walk the whole task table by
        # creation time to count one flow's tasks (0.5 s at 1 M tasks; 5 ms on task_by_node)
        return super().paginate_queryset(DeferredRows(queryset), page_size)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["task_rows"] = describe_tasks(context["object_list"])
        return context


class ProcessListView(DashboardProcessListView):
    """The flow's processes, newest first: number, subject (as every task list names it), status, created, finished,
    open tasks; on a phone, a stack of labelled cards. Counted and paged on process_by_flow; the open tasks counted for
    the page's processes alone (viewflow's counted them for every process of the flow before choosing a page)."""

    template_name = "workflows/flow_process_list.html"
    columns = ()  # the rows are drawn by workflows/_flow_process_rows.html
    ordering = ("-created", "-pk")  # newest first; the id breaks ties, so no process is on two pages

    @viewprop
    def title(self):
        return self.flow_class.process_title

    def get_queryset(self):
        return super(DashboardProcessListView, self).get_queryset().filter(flow_class=self.flow_class)

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(DeferredRows(queryset), page_size)
        processes = describe_processes(object_list)
        page.object_list = processes
        return paginator, page, processes, is_paginated


class QmsFlowViewset(FlowViewset):
    """A flow in the site menu: its board, task list and process list above; cancelling a process needs a
    reason."""

    dashboard_view_class = FlowDashboardView
    task_list_view_class = FlowTaskListView
    process_list_view_class = ProcessListView
    process_cancel_view_class = CancelProcessWithReasonView
