"""A flow's own pages through the API (workflows/flow_pages.py, the same rules as the browser's):

- GET /api/flows/                       the flows the caller may view;
- GET /api/flows/{flow}/board/          each step's open tasks (the 25 oldest) and how many there are, and the
                                        tasks that closed a process last;
- GET /api/flows/{flow}/tasks/          every task of the flow's steps, newest first, a keyset page at a time;
                                        ?step= ?open= ?status= ?process=;
- GET /api/flows/{flow}/processes/      the flow's processes, newest first, a keyset page at a time; ?status=.

`{flow}` is the flow's class name (OrderReviewFlow, ComplaintFlow …). A flow the caller may not view is a 404,
as one that does not exist."""
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from viewflow.workflow.status import PROCESS, STATUS

from core.registry import flows
from core.rest import params
from core.rest.base import ViewSet
from core.rest.keyset import PAGE_PARAMETERS, Key, Keyset, page_body
from inbox.serializers import TaskSerializer
from workflows import flow_pages

# Newest first. The tasks are counted by their own query (task_by_node): a window count over the page's scan made
# PostgreSQL walk the whole task table by creation time (workflows/flow_pages.py, FlowTaskListView).
TASKS_NEWEST_FIRST = Keyset("newest", [Key("created", descending=True), Key("pk", descending=True)])
PROCESSES_NEWEST_FIRST = Keyset("newest", [Key("created", descending=True), Key("pk", descending=True)],
                                deferred_join=True)


TASK_STATUSES, PROCESS_STATUSES = list(STATUS.values), list(PROCESS.values)


class FlowTaskSerializer(TaskSerializer):
    """A task row of a flow's lists: the task lists' row, with its status named and when it was completed."""

    status_label = serializers.CharField()
    finished = serializers.DateTimeField(allow_null=True)


class FlowProcessSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    subject = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    created = serializers.DateTimeField()
    finished = serializers.DateTimeField(allow_null=True)
    open_tasks = serializers.IntegerField(source="active_tasks_count")


FLOWS = inline_serializer("Flow", {"name": serializers.CharField(), "title": serializers.CharField(),
                                   "description": serializers.CharField()}, many=True)
BOARD = inline_serializer("FlowBoard", {
    "flow": serializers.CharField(),
    "columns": inline_serializer("FlowBoardColumn", {
        "step": serializers.CharField(), "title": serializers.CharField(),
        "count": serializers.IntegerField(help_text="how many of the step's tasks are open"),
        "tasks": FlowTaskSerializer(many=True, help_text=f"the {flow_pages.BOARD_ROWS} oldest")}, many=True),
    "closed": FlowTaskSerializer(many=True, help_text="the tasks that closed a process, last first")})


def _records(tasks):
    from .views import _records_by_process  # the task rows' record numbers, as /api/tasks/ gives them
    return {"records_by_process": _records_by_process(task.process_id for task in tasks)}


class FlowViewSet(ViewSet):
    lookup_field = "name"
    lookup_value_converter = "str"

    def flow(self, request, name):
        for flow_class in flows():
            if flow_class.__name__ == name and flow_class.instance.has_view_permission(request.user):
                return flow_class
        raise Http404

    @extend_schema(responses=FLOWS)
    def list(self, request):
        """The flows the caller may view."""
        return Response([{"name": flow_class.__name__, "title": str(flow_class.process_title),
                          "description": str(flow_class.process_description or "")}
                         for flow_class in flows() if flow_class.instance.has_view_permission(request.user)])

    @extend_schema(responses=BOARD)
    @action(detail=True, methods=["get"])
    def board(self, request, name=None):
        """Each step's open tasks, oldest first, and how many there are; the tasks that closed a process last."""
        found = flow_pages.board(self.flow(request, name))
        tasks = [task for column in found["columns"] for task in column["tasks"]] + found["closed"]
        context = _records(tasks)
        return Response({
            "flow": name,
            "columns": [{"step": column["node"].name, "title": column["title"], "count": column["count"],
                         "tasks": FlowTaskSerializer(column["tasks"], many=True, context=context).data}
                        for column in found["columns"]],
            "closed": FlowTaskSerializer(found["closed"], many=True, context=context).data})

    @extend_schema(parameters=[
        OpenApiParameter("step", OpenApiTypes.STR, description="a step of the flow (its name, e.g. review_quality)"),
        OpenApiParameter("open", OpenApiTypes.BOOL, description="only open tasks (1) or only closed ones (0)"),
        OpenApiParameter("status", OpenApiTypes.STR, enum=TASK_STATUSES),
        OpenApiParameter("process", OpenApiTypes.INT), *PAGE_PARAMETERS],
        responses=page_body(FlowTaskSerializer(many=True), "FlowTaskPage"))
    @action(detail=True, methods=["get"])
    def tasks(self, request, name=None):
        """Every task of the flow's steps (starts, people's steps, jobs), newest first."""
        flow_class = self.flow(request, name)
        given = request.query_params
        steps = {node.name: node for node in flow_pages.nodes_of(flow_class, flow_pages.LISTED_TYPES)}
        tasks = flow_pages.flow_tasks(flow_class)
        step = params.choice(given, "step", list(steps))
        if step:
            tasks = tasks.filter(flow_task=steps[step])
        is_open = params.boolean(given, "open")
        if is_open is not None:
            tasks = tasks.filter(flow_pages.OPEN) if is_open else tasks.exclude(flow_pages.OPEN)
        status = params.choice(given, "status", TASK_STATUSES)
        if status:
            tasks = tasks.filter(status=status)
        process = params.integer(given, "process", min_value=1, max_value=2**63 - 1)
        if process:
            tasks = tasks.filter(process_id=process)
        page = TASKS_NEWEST_FIRST.page(tasks, request)
        rows = flow_pages.describe_tasks(page.rows)
        return Response(page.body(FlowTaskSerializer(rows, many=True, context=_records(rows)).data))

    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=PROCESS_STATUSES),
                               *PAGE_PARAMETERS],
                   responses=page_body(FlowProcessSerializer(many=True), "FlowProcessPage"))
    @action(detail=True, methods=["get"])
    def processes(self, request, name=None):
        """The flow's processes, newest first, each with its subject and how many of its tasks are open."""
        processes = flow_pages.flow_processes(self.flow(request, name))
        status = params.choice(request.query_params, "status", PROCESS_STATUSES)
        if status:
            processes = processes.filter(status=status)
        page = PROCESSES_NEWEST_FIRST.page(processes, request)
        return Response(page.body(FlowProcessSerializer(flow_pages.describe_processes(page.rows), many=True).data))
