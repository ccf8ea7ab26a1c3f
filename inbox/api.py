"""API of the inbox: notifications (unread first, mark read), notification preferences,
the personal dashboard, the due/overdue filters of GET /api/tasks/, and the step targets
and company calendar the Quality manager keeps."""
from urllib.parse import urlencode

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path, reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from core.bounds import BusinessDateValidator
from . import due, notify, rows, services
from .delegation_api import MyDelegationsView, MyDelegationView, ReassignTaskView
from .drafts_api import TaskDraftView
from .models import CalendarDay, Notification, NotificationKind

from core.rest import params as query
from core.rest.base import APIView, json_object, reject_unknown
from core.rest.keyset import PAGE_PARAMETERS, Key, Keyset
from core.rest.serializers import StrictMixin

#: the orders of a task list (?ordering=), each paged by keyset: oldest first by default
TASK_ORDERS = {
    None: Keyset("created", [Key("created"), Key("pk")], deferred_join=True),
    "due": Keyset("due", [Key(due.ANNOTATION, nulls="last"), Key("pk")], deferred_join=True),
    "-due": Keyset("-due", [Key(due.ANNOTATION, descending=True, nulls="last"), Key("pk", descending=True)],
                   deferred_join=True),
}
def task_page(tasks, request):
    """One page of a task list, filtered by ?overdue= and ?due_before=, in the ?ordering= asked for."""
    params = request.query_params
    tasks = services.filter_due(tasks, overdue=query.boolean(params, "overdue"),
                                due_before=query.date(params, "due_before"))
    return TASK_ORDERS[query.choice(params, "ordering", ["due", "-due"])].page(tasks, request)


TASK_DUE_PARAMETERS = [
    OpenApiParameter("overdue", OpenApiTypes.BOOL, description="only overdue tasks (1) or only tasks not overdue (0)"),
    OpenApiParameter("due_before", OpenApiTypes.DATE, description="only tasks due on or before this date"),
    OpenApiParameter("ordering", OpenApiTypes.STR, enum=["due", "-due"], description="sort by due date"),
]


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "task", "process", "created", "read", "read_at"]

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationListView(APIView):
    """My notifications, unread first, then newest, a page at a time (`next` until the last)."""

    @extend_schema(parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="only unread ones"),
                               *PAGE_PARAMETERS],
                   responses=inline_serializer("Notifications", {
                       "unread": serializers.IntegerField(), "count": serializers.IntegerField(),
                       "next": serializers.URLField(allow_null=True), "results": NotificationSerializer(many=True)}))
    def get(self, request):
        rows = Notification.objects.filter(recipient=request.user)
        if query.boolean(request.query_params, "unread"):
            rows = rows.filter(read_at__isnull=True)
        page = notify.NOTIFICATION_ORDER.page(rows, request)
        return Response({"unread": notify.unread_count(request.user),
                         **page.body(NotificationSerializer(page.rows, many=True).data)})


class NotificationReadView(APIView):
    """Mark one of my notifications read; another person's answers 404."""

    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, pk):
        notification = Notification.objects.filter(recipient=request.user, pk=pk).first()
        if notification is None:
            raise NotFound("No such notification")
        notify.mark_read(request.user, pk)
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(request=None, responses=inline_serializer("NotificationsRead", {"marked": serializers.IntegerField()}))
    def post(self, request):
        return Response({"marked": notify.mark_read(request.user)})


class NotificationPreferencesView(APIView):
    """{kind: {"email": bool, "in_app": bool}} for every kind; PUT changes the kinds sent."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(notify.preferences_of(request.user))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def put(self, request):
        body, _files = json_object(request, allow_multipart=False)
        if any(not isinstance(v, dict) for v in body.values()):
            raise ValidationError({"detail": ['Send {"<kind>": {"email": true|false, "in_app": true|false}}.']})
        for kind, channels in body.items():
            reject_unknown(channels, ("email", "in_app"), prefix=f"{kind}.")
        unknown = sorted(set(body) - set(NotificationKind.values))
        if unknown:
            raise ValidationError({kind: [f"Unknown kind; use one of {', '.join(NotificationKind.values)}."]
                                   for kind in unknown})
        bad = {kind: ["email and in_app must be true or false."] for kind, channels in body.items()
               if any(not isinstance(channels.get(k, True), bool) for k in ("email", "in_app"))}
        if bad:
            raise ValidationError(bad)
        return Response(notify.set_preferences(request.user, body))


def _task_row(task, now):
    """A dashboard row: the fields of GET /api/tasks/ that a row shows (subject, step, due, days
    overdue, age, owner or queue)."""
    deadline = getattr(task, "deadline", None)
    return {"id": task.pk, "process": task.process_id, "flow": task.flow_task.flow_class.__name__,
            "subject": str(getattr(task, "subject", "")),
            "step": task.flow_task.name, "title": str(task.flow_task.task_title or task.flow_task.name),
            "status": task.status, "due": deadline.due_date.isoformat() if deadline else None,
            "overdue": bool(deadline and now >= deadline.due_at),
            "days_overdue": rows.days_overdue(task, now), "age": rows.age_days(task, now),
            "owner": task.owner.username if task.owner_id else None,
            "queue_label": rows.queue_label(task.owner_permission) if task.owner_permission else None}


def _process_row(process, now):
    return {"id": process.pk, "flow": process.flow_class.__name__, "subject": str(process.subject),
            "status": process.status, "created": process.created,
            "open_steps": [_task_row(t, now) for t in process.open_steps]}


def _more(request, url_name, total, shown, **params):
    """The address of the whole list (the API route `url_name` with `params`), paged, when the dashboard
    shows only its first rows; else None."""
    if total <= shown:
        return None
    query = f"?{urlencode(params)}" if params else ""
    return request.build_absolute_uri(reverse(url_name) + query)


class DashboardView(APIView):
    """My tasks, my queues' tasks, overdue, recently completed by me, processes I started: the first
    `limit` rows of each (soonest due first), how many each has in all (`totals`), and where the whole
    list is, paged (`more`: null when the rows shown are all there is)."""

    @extend_schema(parameters=[OpenApiParameter(
        "limit", OpenApiTypes.INT, description=f"rows of each list, 1-{services.DASHBOARD_MAX_ROWS} "
                                               f"(default {services.DASHBOARD_ROWS})")],
        responses=OpenApiTypes.OBJECT)
    def get(self, request):
        limit = query.integer(request.query_params, "limit", min_value=1, max_value=services.DASHBOARD_MAX_ROWS)
        data = services.dashboard(request.user, limit=limit or services.DASHBOARD_ROWS)
        now, totals = data["now"], data["totals"]
        return Response({
            "my_tasks": [_task_row(t, now) for t in data["mine"]],
            "my_queues": [_task_row(t, now) for t in data["queued"]],
            "overdue": [_task_row(t, now) for t in data["overdue"]],
            "recently_completed": [_completed_row(t) for t in data["completed"]],
            "processes_started": [_process_row(p, now) for p in data["processes"]],
            "totals": {"my_tasks": totals["mine"], "my_queues": totals["queued"], "overdue": totals["overdue"],
                       "overdue_in_my_tasks": totals["overdue_mine"], "overdue_in_my_queues": totals["overdue_queued"],
                       "recently_completed": totals["completed"], "processes_started": totals["processes"]},
            "more": {
                "my_tasks": _more(request, "task-list", totals["mine"], len(data["mine"]), ordering="due"),
                "my_queues": _more(request, "task-list", totals["queued"], len(data["queued"]), queue=1,
                                   ordering="due"),
                "overdue_in_my_tasks": _more(request, "task-list", totals["overdue_mine"],
                                             len([t for t in data["overdue"] if t.owner_id]), overdue=1,
                                             ordering="due"),
                "overdue_in_my_queues": _more(request, "task-list", totals["overdue_queued"],
                                              len([t for t in data["overdue"] if not t.owner_id]), queue=1,
                                              overdue=1, ordering="due"),
                "recently_completed": _more(request, "api-dashboard-completed", totals["completed"],
                                            len(data["completed"])),
                "processes_started": _more(request, "api-dashboard-started", totals["processes"],
                                           len(data["processes"])),
            },
        })


def _completed_row(task):
    """A task I completed: what it was about, the step, when it finished."""
    return {"id": task.pk, "process": task.process_id, "subject": str(task.subject), "step": task.flow_task.name,
            "finished": task.finished}


class CompletedTasksView(APIView):
    """Every task I completed, last finished first, a page at a time (the dashboard shows the newest few)."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        page = services.COMPLETED_ORDER.page(services.completed_by(request.user), request)
        rows.attach_subjects(page.rows)
        return Response(page.body([_completed_row(t) for t in page.rows]))


class StartedProcessesView(APIView):
    """Every process I started, newest first, a page at a time, with where each one stands (its open
    steps, who holds them, their due dates)."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        page = services.STARTED_ORDER.page(services.started_by(request.user), request)
        now = timezone.now()
        return Response(page.body([_process_row(p, now) for p in services.where_they_stand(page.rows)]))


# --- step targets and the company calendar (the Quality manager; as on "Due dates and calendar") ----------


def _require_target_editor(request):
    if not services.can_edit_targets(request.user):
        raise PermissionDenied("Only the Quality manager changes step targets and the company calendar.")


def _target_row(row):
    set_values = {f: getattr(row["row"], f) if row["row"] is not None else None for f in services.TARGET_FIELDS}
    return {"flow": row["flow"], "step": row["step"], "title": str(row["title"]),
            "process_title": str(row["process_title"]), "set": set_values, "effective": row["effective"]}


class StepTargetSerializer(serializers.Serializer):  # for the schema; rows come from _target_row
    flow = serializers.CharField()
    step = serializers.CharField()
    title = serializers.CharField()
    process_title = serializers.CharField()
    set = serializers.DictField(child=serializers.IntegerField(allow_null=True))
    effective = serializers.DictField(child=serializers.IntegerField())


class StepTargetInput(StrictMixin, serializers.Serializer):
    """The body of PUT /api/step-targets/{flow}/{step}/: each timing a whole number or
    null (the default); inbox.services checks the range (0–365)."""

    working_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=365)
    reminder_hours = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=365)
    l1_after_hours = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=365)
    l2_after_working_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=365)
    l3_after_working_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=365)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class StepTargetListView(APIView):
    """Every human step of every flow: the timing set for it ("set", empty = default) and the
    timing in force ("effective"): target in working days, reminder, escalation levels 1-3."""

    @extend_schema(responses=StepTargetSerializer(many=True))
    def get(self, request):
        _require_target_editor(request)
        return Response([_target_row(row) for row in services.target_table()])


class StepTargetView(APIView):
    """PUT the whole timing of one step ({"working_days": 5, …, "reason": "…"}); a field left
    out or null falls back to the default. Applies to tasks created afterwards; audited."""

    @extend_schema(request=StepTargetInput, responses=StepTargetSerializer)
    def put(self, request, flow, step):
        _require_target_editor(request)
        payload = StepTargetInput(data=json_object(request, allow_multipart=False)[0])
        payload.is_valid(raise_exception=True)
        body = payload.validated_data
        services.set_step_target(actor=request.user, flow=flow, step=step,
                                 values={f: body.get(f) for f in services.TARGET_FIELDS},
                                 reason=body.get("reason", ""))
        row = next(r for r in services.target_table() if (r["flow"], r["step"]) == (flow, step))
        return Response(_target_row(row))


class CalendarDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarDay
        fields = ["id", "date", "kind", "name_zh", "name_en"]


class CalendarDayInput(StrictMixin, serializers.Serializer):
    """The body of POST /api/calendar/: its shape and lengths; the date and the kind are
    read by inbox.services (as on the calendar page)."""

    date = serializers.CharField(required=False, allow_blank=True, max_length=10)
    kind = serializers.CharField(required=False, allow_blank=True, max_length=10)
    name_zh = serializers.CharField(required=False, allow_blank=True, max_length=100)
    name_en = serializers.CharField(required=False, allow_blank=True, max_length=100)


class CalendarView(APIView):
    """The company calendar: holidays on working weekdays and make-up working days (调休).
    GET ?year=YYYY (default: every day); "missing_years" names this year and, near its end,
    next year when no holiday of theirs is entered. POST adds a day (audited)."""

    @extend_schema(parameters=[OpenApiParameter("year", OpenApiTypes.INT)],
                   responses=inline_serializer("Calendar", {
                       "days": CalendarDaySerializer(many=True), "missing_years": serializers.ListField(
                           child=serializers.IntegerField())}))
    def get(self, request):
        _require_target_editor(request)
        days = CalendarDay.objects.order_by("date")
        year = query.integer(request.query_params, "year", min_value=1, max_value=9999)
        if year:
            days = days.filter(date__year=year)
        return Response({"days": CalendarDaySerializer(days, many=True).data,
                         "missing_years": services.calendar_gaps()})

    @extend_schema(request=CalendarDayInput, responses={201: CalendarDaySerializer})
    def post(self, request):
        _require_target_editor(request)
        payload = CalendarDayInput(data=json_object(request, allow_multipart=False)[0])
        payload.is_valid(raise_exception=True)
        body = payload.validated_data
        date = services.parse_date(body.get("date"), "date")
        try:
            BusinessDateValidator()(date)
        except DjangoValidationError as error:
            raise ValidationError({"date": error.messages})
        day = services.add_calendar_day(actor=request.user, date=date, kind=body.get("kind", ""),
                                        name_zh=body.get("name_zh", ""), name_en=body.get("name_en", ""))
        return Response(CalendarDaySerializer(day).data, status=201)


class CalendarDayView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        _require_target_editor(request)
        services.remove_calendar_day(actor=request.user, pk=pk)
        return Response(status=204)


urlpatterns = [
    path("notifications/", NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read-all/", NotificationReadAllView.as_view(), name="api-notifications-read-all"),
    path("notifications/<id:pk>/read/", NotificationReadView.as_view(), name="api-notification-read"),
    path("me/notification-preferences/", NotificationPreferencesView.as_view(),
         name="api-notification-preferences"),
    path("dashboard/", DashboardView.as_view(), name="api-dashboard"),
    path("dashboard/started/", StartedProcessesView.as_view(), name="api-dashboard-started"),
    path("dashboard/completed/", CompletedTasksView.as_view(), name="api-dashboard-completed"),
    path("step-targets/", StepTargetListView.as_view(), name="api-step-targets"),
    path("step-targets/<str:flow>/<str:step>/", StepTargetView.as_view(), name="api-step-target"),
    path("calendar/", CalendarView.as_view(), name="api-calendar"),
    path("calendar/<id:pk>/", CalendarDayView.as_view(), name="api-calendar-day"),
    path("me/delegations/", MyDelegationsView.as_view(), name="api-my-delegations"),
    path("me/delegations/<id:pk>/", MyDelegationView.as_view(), name="api-my-delegation"),
    path("tasks/<id:pk>/reassign/", ReassignTaskView.as_view(), name="api-task-reassign"),
    path("tasks/<id:pk>/draft/", TaskDraftView.as_view(), name="api-task-draft"),
]
