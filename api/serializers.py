from django.core.validators import MaxLengthValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.esign import signature_problems
from core.models import AuditEntry, Record, RecordFile, RecordVersion, Signature
from core.stepforms import TEXT_MAX_LENGTH, BusinessDateValidator, unknown_field_errors


class StrictMixin:
    """For every input serializer of the API, the bounds the step forms have
    (core.stepforms): a field it does not take is a 400 naming it (not silently
    ignored), free text is at most TEXT_MAX_LENGTH characters unless the field says
    otherwise, and a date is a business date."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if field.read_only:
                continue
            if isinstance(field, serializers.CharField) and field.max_length is None:
                field.max_length = TEXT_MAX_LENGTH
                field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
            elif isinstance(field, serializers.DateField) and not isinstance(field, serializers.DateTimeField):
                field.validators.append(BusinessDateValidator())
        return fields

    def to_internal_value(self, data):
        if isinstance(data, dict) or hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = unknown_field_errors(data, writable)
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class SignatureInputSerializer(StrictMixin, serializers.Serializer):
    username = serializers.CharField(required=False, help_text="Your user ID (21 CFR 11.200: required with the password)")
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    meaning = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CompleteTaskSerializer(StrictMixin, serializers.Serializer):
    data = serializers.DictField(default=dict)
    signature = SignatureInputSerializer(required=False)


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


class SignatureSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="record_version.version")
    on_behalf_of = serializers.CharField(source="on_behalf_of.username", default=None, read_only=True,
                                         help_text="username of the absent person a substitute signed for")
    valid = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = ["id", "version", "printed_name", "signer_username", "on_behalf_of", "on_behalf_of_name", "role",
                  "meaning", "reason", "signed_at", "content_hash", "signature_hash", "step", "valid", "problems"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_problems(self, signature):
        return signature_problems(signature)

    @extend_schema_field(serializers.BooleanField())
    def get_valid(self, signature):
        return not signature_problems(signature)


class FileSerializer(serializers.ModelSerializer):
    class Meta:
        model = RecordFile
        fields = ["kind", "sha256", "size", "rendered_at"]


class VersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.printed_name")
    hash_valid = serializers.SerializerMethodField()
    files = FileSerializer(many=True)

    class Meta:
        model = RecordVersion
        fields = ["version", "content_hash", "hash_valid", "reason", "created_by", "created_at", "files"]

    @extend_schema_field(serializers.BooleanField())
    def get_hash_valid(self, version):
        return version.compute_hash() == version.content_hash


class RecordListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Record
        fields = ["id", "number", "record_type", "title", "form_code", "form_revision", "status",
                  "current_version", "customer_name", "product_text", "lot_text", "process", "created_at"]


class RecordDetailSerializer(RecordListSerializer):
    versions = VersionSerializer(many=True)
    signatures = serializers.SerializerMethodField()
    data = serializers.SerializerMethodField()
    changed_after_first_signature = serializers.SerializerMethodField()

    class Meta(RecordListSerializer.Meta):
        fields = RecordListSerializer.Meta.fields + ["versions", "signatures", "data",
                                                     "changed_after_first_signature"]

    def _signatures(self, record):
        return [s for v in record.versions.all() for s in v.signatures.all()]

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, record):
        return SignatureSerializer(self._signatures(record), many=True).data

    @extend_schema_field(serializers.DictField())
    def get_data(self, record):
        current = [v for v in record.versions.all() if v.version == record.current_version]
        return current[0].data if current else None

    @extend_schema_field(serializers.BooleanField())
    def get_changed_after_first_signature(self, record):
        signed = [s.record_version.version for s in self._signatures(record)]
        return bool(signed) and record.current_version > min(signed)


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["seq", "timestamp", "actor_name", "action", "object_type", "object_id", "object_repr",
                  "process_id", "old_values", "new_values", "reason", "prev_hash", "entry_hash"]
