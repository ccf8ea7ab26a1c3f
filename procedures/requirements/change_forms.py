"""The forms of the change of an approved requirement (CR-5, RequirementChangeFlow) and of
raising a CAPA or a document change from a requirement. Input shape only; the business state
is checked in changes.py and links.py."""
from django import forms
from django.utils.translation import gettext_lazy as _

from forms.stepforms import StepForm

from .forms import RequirementNumberField
from .models import (
    OPEN_STATUSES,
    REVIEWING_DEPARTMENTS,
    KanoCategory,
    RaisedKind,
)

YES_NO = [("", _("Unchanged")), ("yes", _("Yes")), ("no", _("No"))]


class ChangeableRequirementField(RequirementNumberField):
    """An approved requirement (or one in implementation) by its record number."""

    def clean(self, value):
        req = super().clean(value)
        if req is not None and req.status not in OPEN_STATUSES:
            raise forms.ValidationError(_("Only an approved requirement or one in implementation can be changed."))
        return req


class ChangeRequestForm(StepForm):
    """CR-5 — Market asks to change an approved requirement: the new values (a field left as it
    is stays unchanged), the reason, and the departments that review the change."""

    sections = (
        (_("Requirement"), ("requirement", "reason")),
        (_("New values"), ("customer_words", "meaning", "importance", "urgency", "kano_category", "feasibility",
                           "changes_product_or_process", "due_date")),
        (_("Review"), ("review_departments",)),
    )

    requirement = ChangeableRequirementField(label=_("customer requirement"), max_length=40,
                                             help_text=_("Record number, e.g. CR-2026-0001."))
    reason = forms.CharField(label=_("reason for the change"), widget=forms.Textarea(attrs={"rows": 3}))
    customer_words = forms.CharField(label=_("the customer's words"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 3}))
    meaning = forms.CharField(label=_("what it means for us"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    importance = forms.IntegerField(label=_("importance"), min_value=1, max_value=5, required=False)
    urgency = forms.IntegerField(label=_("urgency"), min_value=1, max_value=5, required=False)
    kano_category = forms.ChoiceField(label=_("KANO category"), required=False,
                                      choices=[("", _("Unchanged"))] + KanoCategory.choices)
    feasibility = forms.CharField(label=_("feasibility (technical, cost, competition)"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    changes_product_or_process = forms.ChoiceField(label=_("changes a product or process"), required=False,
                                                   choices=YES_NO)
    due_date = forms.DateField(label=_("due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    review_departments = forms.MultipleChoiceField(
        label=_("departments to review the change"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(d.value, d.label) for d in REVIEWING_DEPARTMENTS],
        help_text=_("Left empty: the departments that reviewed the requirement."))

    def prefill(self, req):
        """The browser form opened from a requirement shows its current values."""
        self.initial.update({
            "requirement": req.record.number, "customer_words": req.customer_words, "meaning": req.meaning,
            "importance": req.importance, "urgency": req.urgency, "kano_category": req.kano_category,
            "feasibility": req.feasibility, "changes_product_or_process": "yes" if req.changes_product_or_process
            else "no", "due_date": req.due_date, "review_departments": list(req.review_departments)})

    def clean(self):
        cleaned = super().clean()
        cleaned["changes_product_or_process"] = {"yes": True, "no": False}.get(
            cleaned.get("changes_product_or_process") or "")
        for name in ("kano_category",):
            cleaned[name] = cleaned.get(name) or None
        return cleaned


class ChangeApprovalForm(StepForm):
    """CR-5 — the approver approves or rejects the change, with the conclusion."""

    conclusion = forms.CharField(
        label=_("approval conclusion"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Approve: the requirement takes the new values. Reject: it stays as it is; the change is "
                    "kept with this reason."))


class RaiseForm(forms.Form):
    """Raise a CAPA (P3) or a document change (P4) from a requirement."""

    kind = forms.ChoiceField(label=_("raise"), choices=RaisedKind.choices)
    document = forms.CharField(label=_("document number"), max_length=60, required=False,
                               help_text=_("For a document change: the controlled document to change."))
    reason = forms.CharField(label=_("reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == RaisedKind.DOCUMENT_CHANGE and not (cleaned.get("document") or "").strip():
            self.add_error("document", _("Name the document to change."))
        return cleaned
