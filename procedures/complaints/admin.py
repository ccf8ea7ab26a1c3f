from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import actions
from .models import DispositionRule


class DispositionRuleForm(forms.ModelForm):
    """The further signers as check boxes (department × role); every change needs a reason."""

    signers = forms.MultipleChoiceField(label=_("further signers"), required=False,
                                        widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=_("reason for the change"), widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = DispositionRule
        fields = ["code", "signers", "customer_acceptance", "reinspection"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signers"].choices = [(key, actions.signer_label(key)) for key, _key in actions.SIGNER_CHOICES]
        if self.instance.pk:
            self.fields["code"].disabled = True


@admin.register(DispositionRule)
class DispositionRuleAdmin(admin.ModelAdmin):
    """NC-8: who signs each disposition besides the Quality manager. Saved through
    actions.save_disposition_rule (audited with old and new values and the reason); rules
    are never deleted."""

    form = DispositionRuleForm
    list_display = ["code", "signer_labels", "customer_acceptance", "reinspection"]

    @admin.display(description=_("further signers"))
    def signer_labels(self, obj):
        return ", ".join(actions.signer_label(key) for key in obj.signers) or "—"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actions.save_disposition_rule(obj, actor=request.user, signers=data["signers"],
                                      customer_acceptance=data["customer_acceptance"],
                                      reinspection=data["reinspection"], reason=data["reason"])
