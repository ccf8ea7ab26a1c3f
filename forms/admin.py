from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Customer, DispositionRule, Product


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "contact", "active"]
    search_fields = ["code", "name_zh", "name_en"]

    def has_delete_permission(self, request, obj=None):
        return False  # referenced by records: deactivate instead


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "specification", "unit", "active"]
    search_fields = ["code", "name_zh", "name_en"]

    def has_delete_permission(self, request, obj=None):
        return False


# --- P2: disposition rules (NC-8) -----------------------------------------------------------------------


class DispositionRuleForm(forms.ModelForm):
    """The further signers as check boxes (department × role); every change needs a reason."""

    signers = forms.MultipleChoiceField(label=_("further signers"), required=False,
                                        widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=_("reason for the change"), widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = DispositionRule
        fields = ["code", "signers", "customer_acceptance", "reinspection"]

    def __init__(self, *args, **kwargs):
        from .complaints import SIGNER_CHOICES, signer_label

        super().__init__(*args, **kwargs)
        self.fields["signers"].choices = [(key, signer_label(key)) for key, _key in SIGNER_CHOICES]
        if self.instance.pk:
            self.fields["code"].disabled = True


@admin.register(DispositionRule)
class DispositionRuleAdmin(admin.ModelAdmin):
    """NC-8: who signs each disposition besides the Quality manager. Changes are audited
    with old and new values and the reason; rules are never deleted."""

    form = DispositionRuleForm
    list_display = ["code", "signer_labels", "customer_acceptance", "reinspection"]

    @admin.display(description=_("further signers"))
    def signer_labels(self, obj):
        from .complaints import signer_label

        return ", ".join(signer_label(key) for key in obj.signers) or "—"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from core import audit

        fields = ["signers", "customer_acceptance", "reinspection"]
        before = DispositionRule.objects.filter(pk=obj.pk).values(*fields).first() or {}
        obj.signers = sorted(form.cleaned_data["signers"])
        super().save_model(request, obj, form, change)
        after = {field: getattr(obj, field) for field in fields}
        old, new = audit.changed_values(before, after)
        audit.log("disposition_rule.changed" if change else "disposition_rule.created", obj, actor=request.user,
                  old=old if change else None, new=new if change else after, reason=form.cleaned_data["reason"])
