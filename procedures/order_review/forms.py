"""Django forms of the P1 steps. Validation rules live here (input shape) and in
actions.py (business state); templates only display."""
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from forms.fields import CHOOSE, BaseLinesFormSet, LineModelChoiceField
from forms.stepforms import StepForm
from forms.uploads import MultipleFileField

from procedures.order_review.models import (
    REVIEWING_DEPARTMENTS, CategoryAnswer, ChangeCategory, MaterialReadiness, OrderKind, OrderReview,
    OrderReviewStatus, RequirementCategory, ReviewMethod, Verdict, order_review_of,
)
from forms.models import Customer, Product
from procedures.requirements import entry as p5
from procedures.order_review.actions import cannot_meet_departments

SAMPLE_CHOICES = [("auto", _("By rule: every line ≤ 200 pcs")), ("yes", _("Sample (reviewers decide)")),
                  ("no", _("Not a sample (reviewers decide)"))]


def sample_override(value):
    return {"yes": True, "no": False}.get(value)


class LineForm(forms.Form):
    product = LineModelChoiceField(Product.objects.filter(active=True), label=_("product"), to_field_name="code",
                                   error_messages={"invalid_choice": _("Unknown product.")})
    specification = forms.CharField(label=_("specification"), max_length=200, required=False)
    quantity = forms.DecimalField(label=_("quantity"), max_digits=12, decimal_places=3,
                                  min_value=0.001, error_messages={"min_value": _("Quantity must be greater than 0.")})
    unit = forms.CharField(label=_("unit"), max_length=20, required=False)
    unit_price = forms.DecimalField(label=_("unit price"), max_digits=12, decimal_places=4, min_value=0,
                                    required=False)
    packaging = forms.CharField(label=_("packaging"), max_length=200, required=False)
    delivery_date = forms.DateField(label=_("delivery date"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_delivery_date(self):
        value = self.cleaned_data["delivery_date"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The delivery date is in the past."))
        return value

    def clean(self):
        cleaned = super().clean()
        product = cleaned.get("product")
        if product is not None:
            cleaned["unit"] = cleaned.get("unit") or product.unit
            cleaned["specification"] = cleaned.get("specification") or product.specification
        return cleaned


LineFormSet = forms.formset_factory(LineForm, formset=BaseLinesFormSet, extra=0, min_num=1, validate_min=True,
                                    max_num=200, validate_max=True)


class IntakeForm(StepForm):
    """P1.1 — Market receives the order or contract and starts the review."""

    formsets = {"lines": LineFormSet}
    formset_legends = {"lines": _("Order lines")}
    sections = (
        (_("Order"), ("kind", "customer", "order_number", "order_date", "verbal", "verbal_confirmation")),
        (_("Commercial terms"), ("payment_terms", "delivery_place", "transport", "quote_reference",
                                 "quote_differences")),
        (_("Requirements"), ("special_requirements", "implied_requirements", "statutory_requirements",
                             "after_delivery_requirements", "company_requirements")),
        (_("Review"), ("sample", "review_method", "meeting_attendees", "meeting_minutes", "attachments")),
    )

    kind = forms.ChoiceField(label=_("order or contract"), choices=OrderKind.choices)
    customer = forms.ModelChoiceField(Customer.objects.filter(active=True), label=_("customer"), to_field_name="code",
                                      error_messages={"invalid_choice": _("Unknown customer.")})
    order_number = forms.CharField(label=_("order / contract number"), max_length=50)
    order_date = forms.DateField(label=_("order date"), widget=forms.DateInput(attrs={"type": "date"}))
    verbal = forms.BooleanField(label=_("verbal order"), required=False)
    verbal_confirmation = forms.CharField(label=_("confirmation of a verbal order"), required=False,
                                          widget=forms.Textarea(attrs={"rows": 2}),
                                          help_text=_("How and when the customer confirmed the requirements."))
    payment_terms = forms.CharField(label=_("payment terms"), max_length=200, required=False)
    delivery_place = forms.CharField(label=_("delivery place"), max_length=200, required=False)
    transport = forms.CharField(label=_("packaging and transport"), max_length=200, required=False)
    special_requirements = forms.CharField(label=_("special requirements"), required=False,
                                           widget=forms.Textarea(attrs={"rows": 3}))
    implied_requirements = forms.CharField(
        label=_("requirements not stated but needed for the intended use"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}))
    statutory_requirements = forms.CharField(
        label=_("statutory and regulatory requirements"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. RoHS, REACH, GB standards, export control"))
    after_delivery_requirements = forms.CharField(
        label=_("delivery and after-delivery requirements"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}), help_text=_("warranty, service, returns, spare parts"))
    quote_reference = forms.CharField(label=_("quotation / earlier order"), max_length=50, required=False)
    quote_differences = forms.CharField(
        label=_("differences from the quotation / earlier order"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Terms that differ; they must be resolved before the order is accepted."))
    sample = forms.ChoiceField(label=_("sample"), choices=SAMPLE_CHOICES, initial="auto", required=False)
    attachments = MultipleFileField(label=_("attachments"), required=False,
                                    help_text=_("Customer order, drawings, specifications: PDF, PNG, JPEG, DOCX, XLSX."))
    review_method = forms.ChoiceField(label=_("review method"), initial=ReviewMethod.RELAY, required=False,
                                      choices=ReviewMethod.choices)
    company_requirements = forms.CharField(
        label=_("the company's own requirements"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. minimum order quantity, internal quality or packaging standards, credit limit"))
    meeting_attendees = forms.CharField(
        label=_("meeting attendees"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for a meeting review: the name and department of each attendee."))
    meeting_minutes = forms.CharField(
        label=_("meeting minutes"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for a meeting review."))

    def clean_order_date(self):
        value = self.cleaned_data["order_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The order date cannot be in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("verbal") and not (cleaned.get("verbal_confirmation") or "").strip():
            self.add_error("verbal_confirmation", _("A verbal order needs a recorded confirmation (REQ-4)."))
        customer, number = cleaned.get("customer"), cleaned.get("order_number")
        if customer and number and OrderReview.objects.filter(customer=customer, order_number=number).exists():
            self.add_error("order_number", _("This customer's order number is already under review or recorded."))
        cleaned["sample"] = cleaned.get("sample") or "auto"
        if cleaned.get("review_method") == ReviewMethod.MEETING:
            for name in ("meeting_attendees", "meeting_minutes"):
                if not (cleaned.get(name) or "").strip():
                    self.add_error(name, _("Required for a meeting review."))
        return cleaned


class ReviewForm(StepForm):
    """P1.2 — a department's verdict on the order."""

    verdict = forms.ChoiceField(label=_("verdict"), choices=Verdict.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    sample = forms.ChoiceField(label=_("sample"), choices=[("", _("No opinion"))] + SAMPLE_CHOICES[1:],
                               required=False)
    # CR-4: shown (and required) only when the customer has customer-specific requirements
    csr_addressed = forms.CharField(
        label=_("how the order addresses the customer-specific requirements"), required=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The customer-specific requirements are listed above: state, for your department, how this "
                    "order meets each of them (or what is missing)."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        review = _order_review(self.activation)
        if review is None or not p5.frozen_customer_specific_requirements(review.record):
            del self.fields["csr_addressed"]
        # REQ-2: one answer per requirement category, each required
        for category in RequirementCategory:
            self.fields[f"category_{category.value}"] = forms.ChoiceField(
                label=category.label, choices=CategoryAnswer.choices, widget=forms.RadioSelect,
                error_messages={"required": _("Answer for this requirement category.")})

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("verdict") and cleaned["verdict"] != Verdict.CAN_MEET and not cleaned.get("comment", "").strip():
            self.add_error("comment", _("Say what the conditions are or why it cannot be met."))
        if (CategoryAnswer.ISSUE in [cleaned.get(f"category_{c.value}") for c in RequirementCategory]
                and not cleaned.get("comment", "").strip() and "comment" not in self.errors):
            self.add_error("comment", _("Required: a requirement category has an issue."))
        return cleaned


class MarketReviewForm(ReviewForm):
    """src 6.3.8 — Market's own review on the record sheet (业务): its opinion on the delivery
    date, the unit price and the packaging, signed by the Market representative."""

    opinion_delivery_date = forms.CharField(
        label=_("opinion on the delivery date"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Can the requested delivery dates be kept?"))
    opinion_unit_price = forms.CharField(
        label=_("opinion on the unit price"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Are the prices those quoted or agreed, and acceptable?"))
    opinion_packaging = forms.CharField(
        label=_("opinion on the packaging"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Is the packaging / transport requirement clear and feasible?"))


class MaterialsReviewForm(ReviewForm):
    """P1.2 / src 6.3.7 — materials also state whether the materials can meet production needs."""

    # no answer is given for them: an empty first option, and required (forms.fields.explicit_choice)
    material_readiness = forms.ChoiceField(
        label=_("material readiness"), required=True,
        choices=[("", CHOOSE)] + MaterialReadiness.choices,
    )


class NegotiationForm(StepForm):
    """P1.3 — Market records the outcome of negotiating with the customer."""

    formsets = {"lines": LineFormSet}
    formset_legends = {"lines": _("Order lines after the change")}

    OUTCOMES = [("change", _("Customer accepts a change: issue a change notice")),
                ("conditions_accepted", _("Customer accepts the stated conditions")),
                ("declined", _("Order declined"))]
    outcome = forms.ChoiceField(label=_("outcome"), choices=OUTCOMES, widget=forms.RadioSelect)
    notes = forms.CharField(label=_("negotiation record / reason"), widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(label=_("change category"), choices=ChangeCategory.choices, required=False)
    affected_departments = forms.MultipleChoiceField(
        label=_("departments to review the change"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(d.value, d.label) for d in REVIEWING_DEPARTMENTS])
    customer_confirmed = forms.BooleanField(label=_("customer confirmed the change"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.data is not None and self.data.get("outcome") != "change":
            # the changed lines matter only for a change notice
            self.nested["lines"].min_num = 0
            self.nested["lines"].validate_min = False

    def nested_initial(self, name):
        review = _order_review(self.activation)
        if review is None:
            return None
        return [{"product": l.product.code, "specification": l.specification, "quantity": l.quantity,
                 "unit": l.unit, "unit_price": l.unit_price, "packaging": l.packaging,
                 "delivery_date": l.delivery_date} for l in review.lines.all()]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == "change":
            if not cleaned.get("category"):
                self.add_error("category", _("Required for a change notice."))
            if not cleaned.get("affected_departments"):
                self.add_error("affected_departments", _("Choose the departments that must review the change."))
            if not cleaned.get("customer_confirmed"):
                self.add_error("customer_confirmed", _("Record the customer's confirmation of the change."))
        review = _order_review(self.activation)
        if cleaned.get("outcome") == "conditions_accepted" and review is not None:
            blocking = cannot_meet_departments(review)
            if blocking:
                self.add_error("outcome", _(
                    "Not allowed while a department says 'cannot meet' (%(departments)s): issue a change notice "
                    "for them to review again, or decline the order.")
                    % {"departments": ", ".join(str(Department(d).label) for d in blocking)})
        return cleaned

    def clean_step(self):
        if self.cleaned_data.get("outcome") == "change" and not self.cleaned_data.get("lines"):
            raise forms.ValidationError(_("A change notice needs the changed line items."))


class ApprovalForm(StepForm):
    """P1.4 — the Market manager (or the General Manager for a contract) approves."""

    conclusion = forms.CharField(label=_("review conclusion"), widget=forms.Textarea(attrs={"rows": 3}))
    differences_resolution = forms.CharField(
        label=_("how the differences from the quotation were resolved"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        review = _order_review(self.activation)
        if review is None or not review.quote_differences:
            del self.fields["differences_resolution"]


class AcknowledgeForm(StepForm):
    """P1.6 / REQ-6 — a department signs for receipt of an approved change (签收)."""

    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PlanForm(StepForm):
    """P1.5 — Materials writes the production / work plan that follows from the review."""

    planned_start = forms.DateField(label=_("planned start"), widget=forms.DateInput(attrs={"type": "date"}))
    planned_finish = forms.DateField(label=_("planned finish"), widget=forms.DateInput(attrs={"type": "date"}))
    material_readiness = forms.CharField(label=_("material readiness"), widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        start, finish = cleaned.get("planned_start"), cleaned.get("planned_finish")
        if start and start < timezone.localdate():
            self.add_error("planned_start", _("The planned start is in the past."))
        if start and finish and finish < start:
            self.add_error("planned_finish", _("The planned finish is before the start."))
        review = _order_review(self.activation)
        if review and finish:
            latest = max(line.delivery_date for line in review.lines.all())
            if finish > latest:
                self.add_error("planned_finish", _("The plan finishes after the last delivery date (%(date)s).")
                               % {"date": latest})
        return cleaned


class OrderByRecordNumberField(forms.ModelChoiceField):
    """Chooses an order review by its record number (OR-2026-0001)."""

    def prepare_value(self, value):
        if isinstance(value, OrderReview):
            return value.record.number
        return super().prepare_value(value)

    def label_from_instance(self, obj):
        return f"{obj.record.number} · {obj.order_number} · {obj.customer}"

    def to_python(self, value):
        if value in self.empty_values:
            return None
        review = self.queryset.filter(record__number=str(value)).first()
        if review is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return review


class ChangeRequestForm(StepForm):
    """P1.6 — a change to an approved order or contract starts with a change notice."""

    formsets = {"lines": LineFormSet}

    order = OrderByRecordNumberField(
        OrderReview.objects.filter(status=OrderReviewStatus.APPROVED).select_related("record", "customer"),
        label=_("approved order / contract"),
        error_messages={"invalid_choice": _("Not an approved order or contract.")})
    category = forms.ChoiceField(label=_("change category"), choices=ChangeCategory.choices)
    reason = forms.CharField(label=_("reason for the change"), widget=forms.Textarea(attrs={"rows": 3}))
    affected_departments = forms.MultipleChoiceField(
        label=_("departments to review the change"), widget=forms.CheckboxSelectMultiple,
        choices=[(d.value, d.label) for d in REVIEWING_DEPARTMENTS])
    customer_confirmed = forms.BooleanField(label=_("customer confirmed the change"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines_left_by_cancellation = []
        if self.data is not None and self.data.get("category") == ChangeCategory.CANCEL:
            # a cancellation leaves nothing: no line items, or lines whose quantity is 0
            self.lines_left_by_cancellation = [
                index for index in range(_count(self.data.get("lines-TOTAL_FORMS")))
                if _positive(self.data.get(f"lines-{index}-quantity")) and not self.data.get(f"lines-{index}-DELETE")]
            nothing = LineFormSet({"lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0"}, prefix="lines")
            nothing.min_num, nothing.validate_min = 0, False
            self.nested["lines"] = nothing

    def clean_step(self):
        if self.lines_left_by_cancellation:
            raise forms.ValidationError(_("A cancellation leaves nothing to deliver: remove the line items or set "
                                          "their quantities to 0."))


def _count(value):
    try:
        return max(0, min(int(value or 0), 200))
    except (TypeError, ValueError):
        return 0


def _positive(value):
    from decimal import Decimal, InvalidOperation  # noqa: PLC0415

    try:
        return Decimal(str(value).strip()) > 0
    except (InvalidOperation, ValueError):
        return bool(str(value or "").strip())  # not a number: not "nothing"


def _order_review(activation):
    if activation is None or not getattr(activation.process, "pk", None):
        return None
    return order_review_of(activation.process)


DEPARTMENT_FIELDS = {d.value: d for d in Department}
