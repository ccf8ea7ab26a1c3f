"""The inbox's tables in the Django admin, read-only: step targets and the company calendar change
on the Quality manager's page ("Due dates and calendar"), through inbox.services, which checks and
audits every change."""
from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import CalendarDay, Delegation, Escalation, Notification, StepTarget
from .services import TARGET_FIELDS


@admin.register(StepTarget)
class StepTargetAdmin(ReadOnlyAdmin):
    """Read here; changed only on the Quality manager's page through inbox.services.set_step_target
    (its range and editor checks and its audit entry)."""

    list_display = ("flow", "step", *TARGET_FIELDS)
    list_filter = ("flow",)


@admin.register(CalendarDay)
class CalendarDayAdmin(ReadOnlyAdmin):
    """Read here; added and removed on the Quality manager's page through inbox.services."""

    list_display = ("date", "kind", "name_zh", "name_en")
    list_filter = ("kind",)
    date_hierarchy = "date"


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
