"""Auditor access in the admin too (the grants page, /qms/auditor-grants/, is the everyday place): every
save goes through evidence.grants; each change is audited (SIG-14)."""
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from core.models import Tombstone

from . import grant_rules, grants
from .models import AuditorGrant, EvidenceBundle


class AuditorGrantForm(forms.ModelForm):
    change_reason = forms.CharField(label=_("reason for this change"), required=False, widget=forms.Textarea(
        attrs={"rows": 2}), help_text=_("Required to change or revoke an existing grant; it goes into the audit trail."))
    revoke = forms.BooleanField(label=_("revoke this grant now"), required=False)
    record_types = forms.MultipleChoiceField(
        label=_("record types"), required=False, choices=grant_rules.record_type_choices,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every record type."))

    class Meta:
        model = AuditorGrant
        fields = ["user", "reason", *grants.SCOPE_FIELDS]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.has_changed() and not (cleaned.get("change_reason") or "").strip():
            self.add_error("change_reason", _("Give the reason for this change."))
        return cleaned


@admin.register(AuditorGrant)
class AuditorGrantAdmin(admin.ModelAdmin):
    """Every save goes through evidence.grants (its checks, its audit entries), never a bare save."""

    form = AuditorGrantForm
    list_display = ["user", "valid_from", "valid_until", "record_type_titles", "date_from", "date_to", "revoked_at",
                    "granted_by"]

    @admin.display(description=_("record types"))
    def record_type_titles(self, obj):
        return "; ".join(str(grant_rules.record_type_title(code)) for code in obj.record_types) or _("All record types")

    def get_readonly_fields(self, request, obj=None):
        return ["user", "reason", "granted_by", "revoked_at"] if obj else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "reason", *grants.SCOPE_FIELDS]
        return ["user", "reason", "granted_by", "revoked_at", *grants.SCOPE_FIELDS, "change_reason", "revoke"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if not change:
                created = grants.grant_auditor_access(
                    data["user"], granted_by=request.user, reason=data["reason"],
                    **{f: data.get(f) for f in grants.SCOPE_FIELDS if data.get(f) not in (None, "")})
                obj.pk = created.pk
                return
            reason = data.get("change_reason", "")
            changes = {f: data.get(f) for f in grants.SCOPE_FIELDS if f in form.changed_data}
            if changes:
                grants.change_auditor_access(obj, changed_by=request.user, reason=reason, **changes)
            if data.get("revoke"):
                grants.revoke_auditor_access(obj, revoked_by=request.user, reason=reason)
        except DomainError as error:
            raise ValidationError(str(error)) from error

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
