"""Read-only admin views of the evidence tables: nothing here can be changed."""
from django.contrib import admin

from .models import AuditEntry, Record, RecordFile, RecordVersion, Signature


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "timestamp", "actor_name", "action", "object_type", "object_id", "reason"]
    list_filter = ["action"]
    search_fields = ["object_id", "actor_name", "reason"]


@admin.register(Record)
class RecordAdmin(ReadOnlyAdmin):
    list_display = ["number", "record_type", "status", "current_version", "customer_name", "created_at"]
    list_filter = ["record_type", "status"]
    search_fields = ["number", "search_text"]


@admin.register(RecordVersion)
class RecordVersionAdmin(ReadOnlyAdmin):
    list_display = ["record", "version", "content_hash", "created_at"]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["record_version", "printed_name", "role", "meaning", "signed_at"]


@admin.register(RecordFile)
class RecordFileAdmin(ReadOnlyAdmin):
    list_display = ["record_version", "kind", "rendition", "sha256", "size", "rendered_at", "rendered_by"]
