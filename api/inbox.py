"""API of the inbox: notifications (unread first, mark read), notification preferences,
the personal dashboard, the due/overdue filters of GET /api/tasks/, and the step targets
and company calendar the Quality manager keeps."""
from django.db.models import F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import notify, services
from inbox.models import CalendarDay, Notification, NotificationKind

TASK_DUE_PARAMETERS = [
    OpenApiParameter("overdue", OpenApiTypes.BOOL, description="only overdue tasks (1) or only tasks not overdue (0)"),
    OpenApiParameter("due_before", OpenApiTypes.DATE, description="only tasks due on or before this date"),
    OpenApiParameter("ordering", OpenApiTypes.STR, enum=["due", "-due"], description="sort by due date"),
]


def filter_tasks_by_due(tasks, params):
    """Apply ?overdue=, ?due_before= and ?ordering= of GET /api/tasks/ to a task queryset."""
    overdue = params.get("overdue")
    if overdue not in (None, ""):
        if overdue not in ("1", "true", "0", "false"):
            raise ValidationError({"overdue": ["Use 1 or 0."]})
        overdue = overdue in ("1", "true")
    else:
        overdue = None
    due_before = params.get("due_before")
    if due_before:
        due_before = services.parse_date(due_before, "due_before")
    ordering = params.get("ordering")
    if ordering not in (None, "", "due", "-due"):
        raise ValidationError({"ordering": ["Use due or -due."]})
    return services.filter_due(tasks, overdue=overdue, due_before=due_before or None, ordering=ordering or None)


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "task", "process", "created", "read", "read_at"]

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationListView(APIView):
    """My notifications, unread first, then newest (at most 200)."""

    @extend_schema(parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="only unread ones")],
                   responses=inline_serializer("Notifications", {
                       "unread": serializers.IntegerField(), "results": NotificationSerializer(many=True)}))
    def get(self, request):
        rows = Notification.objects.filter(recipient=request.user)
        if request.query_params.get("unread") in ("1", "true"):
            rows = rows.filter(read_at__isnull=True)
        rows = rows.order_by(F("read_at").asc(nulls_first=True), "-created", "-pk")[:200]
        return Response({"unread": notify.unread_count(request.user),
                         "results": NotificationSerializer(rows, many=True).data})


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
        body = request.data if isinstance(request.data, dict) else None
        if body is None or any(not isinstance(v, dict) for v in body.values()):
            raise ValidationError({"detail": ['Send {"<kind>": {"email": true|false, "in_app": true|false}}.']})
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
    deadline = getattr(task, "deadline", None)
    return {"id": task.pk, "process": task.process_id, "flow": task.flow_task.flow_class.__name__,
            "step": task.flow_task.name, "title": str(task.flow_task.task_title or task.flow_task.name),
            "status": task.status, "due": deadline.due_date.isoformat() if deadline else None,
            "overdue": bool(deadline and now >= deadline.due_at)}


class DashboardView(APIView):
    """My tasks, my queues' tasks, overdue, recently completed by me, processes I started."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        data = services.dashboard(request.user)
        now = data["now"]
        return Response({
            "my_tasks": [_task_row(t, now) for t in data["mine"]],
            "my_queues": [_task_row(t, now) for t in data["queued"]],
            "overdue": [_task_row(t, now) for t in data["overdue"]],
            "recently_completed": [{"id": t.pk, "process": t.process_id, "step": t.flow_task.name,
                                    "finished": t.finished} for t in data["completed"]],
            "processes_started": [{"id": p.pk, "flow": p.flow_class.__name__, "status": p.status,
                                   "created": p.created,
                                   "open_steps": [_task_row(t, now) for t in p.open_steps]}
                                  for p in data["processes"]],
        })


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

    @extend_schema(request=OpenApiTypes.OBJECT, responses=StepTargetSerializer)
    def put(self, request, flow, step):
        _require_target_editor(request)
        body = request.data if isinstance(request.data, dict) else {}
        services.set_step_target(actor=request.user, flow=flow, step=step,
                                 values={f: body.get(f) for f in services.TARGET_FIELDS},
                                 reason=str(body.get("reason") or ""))
        row = next(r for r in services.target_table() if (r["flow"], r["step"]) == (flow, step))
        return Response(_target_row(row))


class CalendarDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarDay
        fields = ["id", "date", "kind", "name_zh", "name_en"]


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
        year = request.query_params.get("year")
        if year:
            if not year.isdigit():
                raise ValidationError({"year": ["Enter a year, e.g. 2027."]})
            days = days.filter(date__year=int(year))
        return Response({"days": CalendarDaySerializer(days, many=True).data,
                         "missing_years": services.calendar_gaps()})

    @extend_schema(request=CalendarDaySerializer, responses={201: CalendarDaySerializer})
    def post(self, request):
        _require_target_editor(request)
        body = request.data if isinstance(request.data, dict) else {}
        day = services.add_calendar_day(actor=request.user, date=services.parse_date(body.get("date"), "date"),
                                        kind=str(body.get("kind") or ""), name_zh=str(body.get("name_zh") or ""),
                                        name_en=str(body.get("name_en") or ""))
        return Response(CalendarDaySerializer(day).data, status=201)


class CalendarDayView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        _require_target_editor(request)
        services.remove_calendar_day(actor=request.user, pk=pk)
        return Response(status=204)
