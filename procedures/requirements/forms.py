"""Django forms of the P5 steps: the shape of input (browser and API alike); the business
state is checked in actions.py."""
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from forms.models import Customer, Product
from forms.uploads import MultipleFileField
from forms.stepforms import StepForm

from .models import (
    REVIEWING_DEPARTMENTS,
    AnswerChannel,
    CustomerRequirement,
    FeasibilityVerdict,
    Fulfilment,
    KanoCategory,
    RequirementChannel,
    RequirementType,
    requirement_of,
)

NUMBERS = re.compile(r"[\s,;，；]+")


def _requirement(activation):
    if activation is None or not getattr(activation.process, "pk", None):
        return None
    return requirement_of(activation.process)


class RequirementNumberField(forms.CharField):
    """An existing customer requirement by its record number (CR-2026-0001)."""

    def clean(self, value):
        value = super().clean(value)  # the text, its length checked
        if not value:
            return None
        req = CustomerRequirement.objects.select_related("record").filter(record__number=value.strip()).first()
        if req is None:
            raise forms.ValidationError(_("No customer requirement %(number)s.") % {"number": value})
        return req


class RequirementNumbersField(forms.CharField):
    """Several record numbers, separated by commas or spaces."""

    def clean(self, value):
        value = super().clean(value)
        numbers = [n for n in NUMBERS.split(value or "") if n]
        found = {r.record.number: r for r in CustomerRequirement.objects.select_related("record")
                 .filter(record__number__in=numbers)}
        missing = [n for n in numbers if n not in found]
        if missing:
            raise forms.ValidationError(_("No customer requirement %(number)s.") % {"number": ", ".join(missing)})
        return [found[n] for n in dict.fromkeys(numbers)]


class CollectForm(StepForm):
    """P5.1 — Market registers a customer requirement (需求收集)."""

    sections = (
        (_("Customer"), ("customer", "customer_name", "channel", "received_on")),
        (_("Requirement"), ("requirement_type", "product", "product_text", "customer_words", "meaning",
                            "attachments", "duplicate_of")),
    )

    customer = forms.ModelChoiceField(
        Customer.objects.filter(active=True), label=_("customer"), to_field_name="code", required=False,
        error_messages={"invalid_choice": _("Unknown customer.")},
        help_text=_("Leave empty for a potential customer and write the name below."))
    customer_name = forms.CharField(label=_("potential customer"), max_length=200, required=False)
    channel = forms.ChoiceField(label=_("channel"), choices=RequirementChannel.choices)
    received_on = forms.DateField(label=_("received on"), widget=forms.DateInput(attrs={"type": "date"}),
                                  initial=timezone.localdate)
    requirement_type = forms.ChoiceField(label=_("requirement type"), choices=RequirementType.choices)
    product = forms.ModelChoiceField(Product.objects.filter(active=True), label=_("product"), to_field_name="code",
                                     required=False, error_messages={"invalid_choice": _("Unknown product.")})
    product_text = forms.CharField(label=_("product / service"), max_length=200, required=False,
                                   help_text=_("A product or service not in the catalogue."))
    customer_words = forms.CharField(label=_("the customer's words"), widget=forms.Textarea(attrs={"rows": 3}),
                                     help_text=_("As the customer said or wrote it."))
    meaning = forms.CharField(label=_("what it means for us"), widget=forms.Textarea(attrs={"rows": 3}))
    attachments = MultipleFileField(label=_("attachments"), required=False,
                                    help_text=_("The customer's letter or e-mail, drawings, photos: PDF, PNG, JPEG, "
                                                "DOCX, XLSX."))
    duplicate_of = RequirementNumberField(
        label=_("duplicate of"), max_length=40, required=False,
        help_text=_("The record number of a requirement this one repeats: it is linked there and closed."))

    def clean_received_on(self):
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value

    def clean_customer_words(self):
        value = self.cleaned_data["customer_words"].strip()
        if not value:
            raise forms.ValidationError(_("Write the requirement in the customer's words."))
        return value

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("customer") and not (cleaned.get("customer_name") or "").strip() \
                and "customer" not in self.errors:
            self.add_error("customer_name", _("Choose a customer or write the name of the potential customer."))
        return cleaned


class AnalysisForm(StepForm):
    """P5.2 — importance × urgency, KANO, feasibility, conflicts and dependencies (需求分析)."""

    sections = (
        (_("Priority"), ("importance", "urgency", "kano_category")),
        (_("Feasibility"), ("feasibility", "changes_product_or_process", "review_departments")),
        (_("Links"), ("conflicts_with", "depends_on")),
    )

    importance = forms.IntegerField(label=_("importance"), min_value=1, max_value=5,
                                    help_text=_("1 (low) to 5 (critical for the customer)"))
    urgency = forms.IntegerField(label=_("urgency"), min_value=1, max_value=5,
                                 help_text=_("1 (can wait) to 5 (needed at once)"))
    kano_category = forms.ChoiceField(label=_("KANO category"), required=False,
                                      choices=[("", _("Not known"))] + KanoCategory.choices)
    feasibility = forms.CharField(label=_("feasibility (technical, cost, competition)"),
                                  widget=forms.Textarea(attrs={"rows": 3}))
    changes_product_or_process = forms.BooleanField(label=_("changes a product or process"), required=False)
    review_departments = forms.MultipleChoiceField(
        label=_("departments to review"), widget=forms.CheckboxSelectMultiple,
        choices=[(d.value, d.label) for d in REVIEWING_DEPARTMENTS])
    conflicts_with = RequirementNumbersField(label=_("conflicts with"), required=False, max_length=400,
                                             help_text=_("Record numbers, separated by commas."))
    depends_on = RequirementNumbersField(label=_("depends on"), required=False, max_length=400,
                                         help_text=_("Record numbers, separated by commas."))

    def clean(self):
        cleaned = super().clean()
        req = _requirement(self.activation)
        for name in ("conflicts_with", "depends_on"):
            if req is not None and any(r.pk == req.pk for r in cleaned.get(name) or []):
                self.add_error(name, _("A requirement cannot be linked to itself."))
        return cleaned


class ReviewForm(StepForm):
    """P5.3 — a department's verdict on the requirement."""

    verdict = forms.ChoiceField(label=_("verdict"), choices=FeasibilityVerdict.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("verdict") and cleaned["verdict"] != FeasibilityVerdict.FEASIBLE \
                and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", _("Say what the conditions are or why it cannot be met."))
        return cleaned


class ApprovalForm(StepForm):
    """P5.3 — the Market manager (the General Manager for a customer-specific requirement that
    changes a product or process) approves or rejects."""

    conclusion = forms.CharField(
        label=_("approval conclusion"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Approve: the company commits to meet the requirement; its owner implements it by the due "
                    "date. Reject: it will not be met; the conclusion is the reason given to the customer."))
    customer_acceptance = forms.CharField(label=_("customer's acceptance"), required=False,
                                          widget=forms.Textarea(attrs={"rows": 2}),
                                          help_text=_("How and when the customer accepted, where needed."))
    owner = forms.ModelChoiceField(User.objects.filter(is_active=True, memberships__isnull=False).distinct(),
                                   label=_("owner"), to_field_name="username", required=False,
                                   error_messages={"invalid_choice": _("Unknown user.")},
                                   help_text=_("Required when approving."))
    due_date = forms.DateField(label=_("due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("Required when approving."))


class TrackForm(StepForm):
    """P5.4 — the owner reports progress (需求跟踪)."""

    OUTCOMES = [("in_implementation", _("In implementation: keep tracking")),
                ("implemented", _("Implemented: ready for evaluation")),
                ("withdrawn", _("Withdrawn by the customer"))]
    outcome = forms.ChoiceField(label=_("outcome"), choices=OUTCOMES, widget=forms.RadioSelect)
    progress = forms.CharField(label=_("progress"), widget=forms.Textarea(attrs={"rows": 3}))


class EvaluationForm(StepForm):
    """P5.5 — was it met, with evidence; the answer given to the customer (需求评估 / 反馈)."""

    sections = (
        (_("Evaluation"), ("fulfilment", "evidence")),
        (_("Answer to the customer"), ("answer_date", "answer_channel", "answer_content")),
    )
    fulfilment = forms.ChoiceField(label=_("was it met?"), choices=Fulfilment.choices, widget=forms.RadioSelect)
    evidence = forms.CharField(label=_("evidence"), widget=forms.Textarea(attrs={"rows": 3}))
    answer_date = forms.DateField(label=_("answer date"), widget=forms.DateInput(attrs={"type": "date"}))
    answer_channel = forms.ChoiceField(label=_("answer channel"), choices=AnswerChannel.choices)
    answer_content = forms.CharField(label=_("answer to the customer"), widget=forms.Textarea(attrs={"rows": 3}))

    def clean_answer_date(self):
        value = self.cleaned_data["answer_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The answer date is in the future."))
        return value


