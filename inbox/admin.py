"""Step targets and the company calendar in the Django admin; every change is audited
(as on the Quality manager's page, "Due dates and calendar")."""
from django.contrib import admin
from django.db import transaction

from core import audit
from core.admin import ReadOnlyAdmin

from .models import CalendarDay, Delegation, Escalation, Notification, StepTarget
from .services import TARGET_FIELDS


@admin.register(StepTarget)
class StepTargetAdmin(admin.ModelAdmin):
    list_display = ("flow", "step", *TARGET_FIELDS)
    list_filter = ("flow",)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            old = {f: form.initial.get(f) for f in TARGET_FIELDS} if change else None
            super().save_model(request, obj, form, change)
            audit.log("inbox.step_target_changed", obj, actor=request.user, old=old,
                      new={f: getattr(obj, f) for f in TARGET_FIELDS})

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.log("inbox.step_target_removed", obj, actor=request.user,
                      old={f: getattr(obj, f) for f in TARGET_FIELDS})
            super().delete_model(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # bulk deletion would bypass the audit entry; clear the fields instead


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name_zh", "name_en")
    list_filter = ("kind",)
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.log("inbox.calendar_day_changed" if change else "inbox.calendar_day_added", obj,
                      actor=request.user, old=dict(form.initial) if change else None,
                      new={"date": obj.date, "kind": obj.kind, "name_zh": obj.name_zh, "name_en": obj.name_en})

    def has_delete_permission(self, request, obj=None):
        return False  # removed on the Quality manager's page, where the removal is audited


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ("task", "level", "sent_at")
    list_filter = ("level",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "title", "created", "read_at")
    list_filter = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    """Every absence, for administrators. Read-only: absences are recorded and cancelled
    through the Absences and delegation page or the API, where the rules and the audit
    trail apply (inbox.delegation)."""

    list_display = ["delegator", "substitute", "starts_on", "ends_on", "reason", "created_by", "cancelled_at"]
    list_filter = ["starts_on", "cancelled_at", "delegator__memberships__department"]
    search_fields = ["delegator__username", "delegator__display_name", "substitute__username",
                     "substitute__display_name", "reason"]
    date_hierarchy = "starts_on"
