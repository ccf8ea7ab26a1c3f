from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from core import esign
from core.admin import ReadOnlyAdmin

from core.models import AccountabilityAcceptance

from .models import Membership, User


# What changes a person's access rights (SIG-14): a change to any of these needs a reason, which goes
# into the audit entry with the old and new values (accounts.signals).
ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")


class AuditedUserChangeForm(UserChangeForm):
    """The admin's user form with the reason for a change of access rights or printed name."""

    change_reason = forms.CharField(
        label=_("reason for this change"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to change access rights (active, staff, superuser, groups, permissions, "
                    "departments) or the printed name; it goes into the audit trail."))

    def clean(self):
        cleaned = super().clean()
        reason = (cleaned.get("change_reason") or "").strip()
        if self.instance.pk and not reason and set(self.changed_data) & {*ACCESS_FIELDS, "display_name"}:
            self.add_error("change_reason", _("Give the reason for this change of access rights or name."))
        self.instance._reason = reason  # read by the membership formset and the audit signals
        return cleaned


class MembershipFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        changed = any(form.has_changed() for form in self.forms)  # added, edited or ticked for deletion
        if self.instance.pk and changed and not getattr(self.instance, "_reason", ""):
            raise ValidationError(_("Give the reason for this change of access rights (field \"reason for "
                                    "this change\" above)."))


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users are deactivated, never deleted (SIG-10); a username is never changed once the user exists
    (SIG-10: IDs are never reused or reassigned); every change of access rights or printed name — active,
    staff, superuser, groups, permissions, departments — needs a reason and is audited with old and new
    values (SIG-14; accounts.signals)."""

    form = AuditedUserChangeForm
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "is_active", "signing_failures", "signing_locked_at", "last_login"]
    list_filter = ["is_active", "memberships__department"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Signing"), {"fields": ("display_name", "preferred_language")}),
        (_("Reason"), {"fields": ("change_reason",)}),
    )
    actions = ["unlock_signing", "deactivate"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + ["username"] if obj is not None else readonly

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj._actor = request.user
        obj._reason = (form.cleaned_data.get("change_reason") or "").strip() if change else ""
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        form.instance._actor = request.user  # the groups and permissions (save_m2m) are audited as theirs
        super().save_related(request, form, formsets, change)

    @admin.action(description=_("Unlock signing (after identity was checked)"))
    def unlock_signing(self, request, queryset):
        for user in queryset:
            esign.unlock_signing(user, actor=request.user, reason=f"unlocked by {request.user.username} in admin")
        messages.success(request, _("Signing unlocked for %(n)d user(s).") % {"n": queryset.count()})

    @admin.action(description=_("Deactivate (user IDs are never deleted or reused)"))
    def deactivate(self, request, queryset):
        for user in queryset:
            user._actor = request.user
            user._reason = f"deactivated by {request.user.username} in admin"
            user.is_active = False
            user.save(update_fields=["is_active"])
        messages.success(request, _("%(n)d user(s) deactivated.") % {"n": queryset.count()})

    def save_formset(self, request, form, formset, change):
        reason = getattr(form.instance, "_reason", "")
        instances = formset.save(commit=False)
        for obj in instances:
            obj._actor, obj._reason = request.user, reason
            obj.save()
        for obj in formset.deleted_objects:
            obj._actor, obj._reason = request.user, reason
            obj.delete()


@admin.register(AccountabilityAcceptance)
class AccountabilityAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["user", "statement_version", "accepted_at"]
