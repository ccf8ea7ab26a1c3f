from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from core import esign
from core.admin import ReadOnlyAdmin

from core.models import AccountabilityAcceptance

from .models import Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users are deactivated, never deleted (SIG-10); role changes are audited (SIG-14)."""

    inlines = [MembershipInline]
    list_display = ["username", "display_name", "is_active", "signing_failures", "signing_locked_at", "last_login"]
    list_filter = ["is_active", "memberships__department"]
    fieldsets = BaseUserAdmin.fieldsets + ((_("Signing"), {"fields": ("display_name", "preferred_language")}),)
    actions = ["unlock_signing", "deactivate"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Unlock signing (after identity was checked)"))
    def unlock_signing(self, request, queryset):
        for user in queryset:
            esign.unlock_signing(user, actor=request.user, reason=f"unlocked by {request.user.username} in admin")
        messages.success(request, _("Signing unlocked for %(n)d user(s).") % {"n": queryset.count()})

    @admin.action(description=_("Deactivate (user IDs are never deleted or reused)"))
    def deactivate(self, request, queryset):
        for user in queryset:
            user._actor = request.user
            user.is_active = False
            user.save(update_fields=["is_active"])
        messages.success(request, _("%(n)d user(s) deactivated.") % {"n": queryset.count()})

    def save_formset(self, request, form, formset, change):
        for obj in formset.new_objects if hasattr(formset, "new_objects") else []:
            obj._actor = request.user
        instances = formset.save(commit=False)
        for obj in instances:
            obj._actor = request.user
            obj.save()
        for obj in formset.deleted_objects:
            obj._actor = request.user
            obj.delete()


@admin.register(AccountabilityAcceptance)
class AccountabilityAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["user", "statement_version", "accepted_at"]
