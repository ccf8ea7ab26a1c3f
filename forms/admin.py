from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Customer, Product


class MasterDataForm(forms.ModelForm):
    """A customer or product as the admin edits it: a change needs a reason (SIG-13), which goes into the
    audit entry with the old and new values (forms.models.AuditedMasterData)."""

    change_reason = forms.CharField(
        label=_("reason for this change"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to change an existing entry; it goes into the audit trail."))

    def clean(self):
        cleaned = super().clean()
        changed = set(self.changed_data) - {"change_reason"}
        if self.instance.pk and changed and not (cleaned.get("change_reason") or "").strip():
            self.add_error("change_reason", _("Give the reason for this change."))
        return cleaned


class MasterDataAdmin(admin.ModelAdmin):
    """Creations and changes are audited (who, old → new, why); entries are never deleted: records name
    them (deactivate instead)."""

    form = MasterDataForm

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj._actor = request.user
        obj._reason = (form.cleaned_data.get("change_reason") or "").strip()
        super().save_model(request, obj, form, change)


@admin.register(Customer)
class CustomerAdmin(MasterDataAdmin):
    list_display = ["code", "name_zh", "name_en", "contact", "active"]
    search_fields = ["code", "name_zh", "name_en"]
    fields = ["code", "name_zh", "name_en", "address", "contact", "phone", "active", "change_reason"]


@admin.register(Product)
class ProductAdmin(MasterDataAdmin):
    list_display = ["code", "name_zh", "name_en", "specification", "unit", "active"]
    search_fields = ["code", "name_zh", "name_en"]
    fields = ["code", "name_zh", "name_en", "specification", "unit", "active", "change_reason"]
