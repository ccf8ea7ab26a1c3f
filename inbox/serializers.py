"""A task as the API shows it: the row of an inbox, a queue, a dashboard."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    process = serializers.IntegerField(source="process_id")
    flow = serializers.SerializerMethodField()
    step = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()
    status = serializers.CharField()
    owner = serializers.CharField(source="owner.username", default=None)
    queue = serializers.CharField(source="owner_permission", default=None)
    created = serializers.DateTimeField()
    records = serializers.SerializerMethodField()
    due = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_due(self, task):
        deadline = getattr(task, "deadline", None)  # a human task's due date (inbox.TaskDeadline)
        return deadline.due_date.isoformat() if deadline is not None else None

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, task):
        from django.utils import timezone

        deadline = getattr(task, "deadline", None)
        return deadline is not None and timezone.now() >= deadline.due_at

    @extend_schema_field(serializers.CharField())
    def get_flow(self, task):
        return task.flow_task.flow_class.__name__

    @extend_schema_field(serializers.CharField())
    def get_step(self, task):
        return task.flow_task.name

    @extend_schema_field(serializers.CharField())
    def get_title(self, task):
        return str(task.flow_task.task_title or task.flow_task.name)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_records(self, task):
        return self.context.get("records_by_process", {}).get(task.process_id, [])
