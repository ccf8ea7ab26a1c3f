from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import diffs, registry
from core.esign import signature_problems
from core.models import AuditEntry, Record, RecordFile, RecordVersion, Signature


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
    rendered_by = serializers.CharField(source="rendered_by.printed_name", default=None, read_only=True,
                                        help_text="who asked for a later rendition (none for the first)")

    class Meta:
        model = RecordFile
        fields = ["kind", "rendition", "sha256", "size", "rendered_at", "reason", "rendered_by"]


class StoredFileSerializer(FileSerializer):
    """A stored file of a record, with its version, whether it is the newest rendition of its kind (what a
    download gives by default) and, when asked for, what a check of it found."""
    version = serializers.IntegerField(source="record_version.version")
    newest = serializers.BooleanField()
    check = serializers.DictField(allow_null=True, help_text=(
        'with ?check=true, for each newest file: {"ok": bool, "misnumbered_faces": [...], "problem": str}'))

    class Meta(FileSerializer.Meta):
        fields = ["version", *FileSerializer.Meta.fields, "newest", "check"]


class RenditionRequestSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    reason = serializers.CharField(max_length=2000, help_text="why the version is rendered again (kept with the "
                                                              "new files and in their audit entries)")


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
    status_label = serializers.SerializerMethodField()

    class Meta:
        model = Record
        fields = ["id", "number", "record_type", "title", "form_code", "form_revision", "status", "status_label",
                  "current_version", "customer_name", "product_text", "lot_text", "process", "created_at"]

    def get_status_label(self, record) -> str:
        """The status as the record's own type names it, in the request's language."""
        return str(registry.status_label(record.status, record.record_type))


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
        return record.changed_after_first_signature((s.record_version.version for s in self._signatures(record)),
                                                    versions=record.versions.all())


class AuditEntrySerializer(serializers.ModelSerializer):
    who = serializers.SerializerMethodField(help_text="who did it, in the reader's language; the system "
                                                      "for entries without a person or by the scheduler account")
    system = serializers.SerializerMethodField(help_text="made by the system, not a person")
    sentence = serializers.SerializerMethodField(help_text="the entry as the record page says it")

    class Meta:
        model = AuditEntry
        fields = ["seq", "timestamp", "actor_name", "who", "system", "action", "sentence", "object_type", "object_id",
                  "object_repr", "process_id", "old_values", "new_values", "reason", "prev_hash", "entry_hash"]

    def _line(self, entry):
        if getattr(entry, "_line", None) is None:
            entry._line = diffs.describe(entry, entry.record.record_type if entry.record_id else None)
        return entry._line

    @extend_schema_field(serializers.CharField())
    def get_who(self, entry):
        return self._line(entry).who

    @extend_schema_field(serializers.BooleanField())
    def get_system(self, entry):
        return self._line(entry).system

    @extend_schema_field(serializers.CharField())
    def get_sentence(self, entry):
        return self._line(entry).sentence
