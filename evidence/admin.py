"""Granting and revoking auditor access happens in the admin; each change is audited (SIG-14)."""
from django.contrib import admin
from django.db import transaction

from core import audit

from .models import AuditorGrant, EvidenceBundle, Tombstone


@admin.register(AuditorGrant)
class AuditorGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "valid_from", "valid_until", "record_types", "date_from", "date_to", "revoked_at",
                    "granted_by"]
    exclude = ["granted_by"]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if not change:
                obj.granted_by = request.user
            super().save_model(request, obj, form, change)
            audit.log("access.auditor_revoked" if obj.revoked_at else (
                "access.auditor_changed" if change else "access.auditor_granted"), obj, actor=request.user,
                new={f: getattr(obj, f) for f in ["valid_from", "valid_until", "record_types", "date_from",
                                                  "date_to", "revoked_at"]} | {"user": obj.user.get_username()},
                reason=obj.reason)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EvidenceBundle)
class EvidenceBundleAdmin(admin.ModelAdmin):
    list_display = ["pk", "created_by", "created_at", "status", "percent", "sha256"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Tombstone)
class TombstoneAdmin(admin.ModelAdmin):
    list_display = ["number", "record_type", "approved_by", "destroyed_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
