"""Django forms of the P2 steps (complaints and returns). Input shape is validated here;
business state (the lot on hold, sums against the received quantity, who may sign)
in actions.py."""

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from forms.fields import BaseLinesFormSet, YesNoField, amount_field, quantity_field
from forms.stepforms import StepForm
from forms.uploads import MultipleImageField

from procedures.complaints import actions as p2
from procedures.complaints.models import (
    NOT_JUSTIFIED_OUTCOMES, SETTLEMENT_OUTCOMES, CaseOrigin, ComplaintChannel, ComplaintKind, CustomerRequest,
    DefectCategory, DefectGrade, DispositionCode, MovementKind, NcAction, complaint_case_of,
    reported_case_of,
)
from forms.models import Customer, Product

MAX_PHOTOS = 10


def _photos_help():
    return gettext("PNG or JPEG photos of the defect, at most %(n)s.") % {"n": MAX_PHOTOS}


def photos_field(label=_("photos")):
    # formatted when shown, in the language of the request
    return MultipleImageField(label=label, required=False, help_text=lazy(_photos_help, str)())


def _check_photo_count(form):
    if len(form.cleaned_data.get("photos") or []) > MAX_PHOTOS:
        form.add_error("photos", _("At most %(n)s photos.") % {"n": MAX_PHOTOS})


def _not_future(form, field):
    value = form.cleaned_data.get(field)
    if value and value > timezone.localdate():
        form.add_error(field, _("The date cannot be in the future."))


def _case(activation, reported=False):
    if activation is None or not getattr(activation.process, "pk", None):
        return None
    return (reported_case_of if reported else complaint_case_of)(activation.process)


class ComplaintIntakeForm(StepForm):
    """P2.1 — Market registers a complaint, a return or both (质量信息反馈单)."""

    sections = (
        (_("Customer"), ("kind", "customer", "contact", "phone", "channel", "received_on")),
        (_("Delivery"), ("order_reference", "delivery_note", "delivery_date", "product", "specification",
                         "lot_number", "quantity_delivered", "quantity_affected")),
        (_("Defect"), ("defect_category", "description", "photos")),
        (_("What the customer asks for"), ("customer_request", "customer_request_detail",
                                           "contract_requires_acceptance")),
    )

    kind = forms.ChoiceField(label=_("complaint or return"), choices=ComplaintKind.choices)
    customer = forms.ModelChoiceField(Customer.objects.filter(active=True), label=_("customer"), to_field_name="code",
                                      error_messages={"invalid_choice": _("Unknown customer.")})
    contact = forms.CharField(label=_("customer contact"), max_length=100, required=False)
    phone = forms.CharField(label=_("phone"), max_length=50, required=False)
    channel = forms.ChoiceField(label=_("how the complaint came in"), choices=ComplaintChannel.choices,
                                initial=ComplaintChannel.EMAIL, required=False)
    received_on = forms.DateField(label=_("date received"), widget=forms.DateInput(attrs={"type": "date"}),
                                  initial=timezone.localdate)
    order_reference = forms.CharField(
        label=_("order / contract number"), max_length=50, required=False,
        help_text=_("The customer's order number or the order review record number (OR-…); linked when it exists."))
    delivery_note = forms.CharField(label=_("delivery note number"), max_length=50, required=False)
    delivery_date = forms.DateField(label=_("delivery date"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    product = forms.ModelChoiceField(Product.objects.filter(active=True), label=_("product"), to_field_name="code",
                                     error_messages={"invalid_choice": _("Unknown product.")})
    specification = forms.CharField(label=_("specification"), max_length=200, required=False)
    lot_number = forms.CharField(label=_("lot / batch number"), max_length=60, required=False,
                                 help_text=_("Required when goods are returned."))
    quantity_delivered = quantity_field(_("quantity delivered"))
    quantity_affected = quantity_field(_("quantity affected / returned"))
    defect_category = forms.ChoiceField(label=_("defect class"), choices=DefectCategory.choices)
    description = forms.CharField(label=_("defect as the customer describes it"),
                                  widget=forms.Textarea(attrs={"rows": 3}))
    photos = photos_field()
    customer_request = forms.ChoiceField(label=_("what the customer asks for"), choices=CustomerRequest.choices)
    customer_request_detail = forms.CharField(label=_("customer request in detail"), required=False,
                                              widget=forms.Textarea(attrs={"rows": 2}))
    contract_requires_acceptance = forms.BooleanField(
        label=_("the contract requires the customer's acceptance of a concession"), required=False)

    def clean(self):
        cleaned = super().clean()
        _not_future(self, "received_on")
        _not_future(self, "delivery_date")
        _check_photo_count(self)
        delivered, affected = cleaned.get("quantity_delivered"), cleaned.get("quantity_affected")
        if delivered is not None and affected is not None and affected > delivered:
            self.add_error("quantity_affected", _("Cannot exceed the quantity delivered."))
        returned = cleaned.get("kind") in (ComplaintKind.RETURN, ComplaintKind.BOTH)
        if returned and not cleaned.get("lot_number", "").strip():
            self.add_error("lot_number", _("Returned goods need their lot number (the lot is put on hold)."))
        cleaned["lot_number"] = (cleaned.get("lot_number") or "").strip()
        return cleaned


class InspectionForm(StepForm):
    """P2.2 — the quality inspector's quality anomaly handling report (品质异常处理报告)."""

    sections = (
        (_("Inspection"), ("quantity_inspected", "quantity_defective", "defect_grade", "phenomenon", "photos")),
        (_("Causes (5M1E)"), ("cause_man", "cause_machine", "cause_material", "cause_method", "cause_environment",
                              "cause_measurement")),
        (_("Analysis and measures"), ("cause_summary", "interim_measure", "actions")),
    )

    quantity_inspected = quantity_field(_("quantity inspected"), required=False)
    quantity_defective = quantity_field(_("quantity defective"), required=False, allow_zero=True)
    defect_grade = forms.ChoiceField(label=_("defect grade"), choices=DefectGrade.choices)
    phenomenon = forms.CharField(label=_("defect found"), widget=forms.Textarea(attrs={"rows": 3}))
    photos = photos_field()
    cause_man = forms.CharField(label=_("man (人)"), required=False)
    cause_machine = forms.CharField(label=_("machine (机)"), required=False)
    cause_material = forms.CharField(label=_("material (料)"), required=False)
    cause_method = forms.CharField(label=_("method (法)"), required=False)
    cause_environment = forms.CharField(label=_("environment (环)"), required=False)
    cause_measurement = forms.CharField(label=_("measurement (测)"), required=False)
    cause_summary = forms.CharField(label=_("cause analysis"), widget=forms.Textarea(attrs={"rows": 3}))
    interim_measure = forms.CharField(label=_("interim measure"), widget=forms.Textarea(attrs={"rows": 2}))
    actions = forms.MultipleChoiceField(label=_("actions taken"), required=False, widget=forms.CheckboxSelectMultiple,
                                        choices=NcAction.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = _case(self.activation)
        if case is not None and case.goods_returned:
            self.fields["quantity_inspected"].required = True
            self.fields["quantity_defective"].required = True

    def clean(self):
        cleaned = super().clean()
        _check_photo_count(self)
        inspected, defective = cleaned.get("quantity_inspected"), cleaned.get("quantity_defective")
        if inspected is not None and defective is not None and defective > inspected:
            self.add_error("quantity_defective", _("Cannot exceed the quantity inspected."))
        if (inspected is None) != (defective is None) and "quantity_defective" not in self.errors \
                and "quantity_inspected" not in self.errors:
            self.add_error("quantity_defective" if defective is None else "quantity_inspected",
                           _("Give both quantities or neither."))
        return cleaned


class InternalInspectionForm(StepForm):
    """P2.2 from an internal inspection — the quality inspector opens the quality anomaly handling
    report (品质异常处理报告) for a lot found nonconforming at IQC, IPQC or OQC; the lot goes on hold."""

    sections = (
        (_("Inspection"), ("origin", "inspected_on", "supplier", "customer", "order_reference")),
        (_("Lot"), ("product", "specification", "lot_number", "lot_size", "quantity_inspected", "sample_size",
                    "quantity_defective")),
        (_("Defect"), ("defect_category", "defect_grade", "phenomenon", "photos")),
        (_("Causes (5M1E)"), ("cause_man", "cause_machine", "cause_material", "cause_method", "cause_environment",
                              "cause_measurement")),
        (_("Analysis and measures"), ("cause_summary", "interim_measure", "actions")),
    )

    origin = forms.ChoiceField(label=_("found at"), widget=forms.RadioSelect,
                               choices=[(c.value, c.label) for c in (CaseOrigin.IQC, CaseOrigin.IPQC, CaseOrigin.OQC)])
    inspected_on = forms.DateField(label=_("date inspected"),
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                   initial=timezone.localdate)
    supplier = forms.CharField(label=_("supplier"), max_length=200, required=False,
                               help_text=_("Required for an incoming inspection (IQC)."))
    customer = forms.ModelChoiceField(Customer.objects.filter(active=True), label=_("customer"), to_field_name="code",
                                      required=False, error_messages={"invalid_choice": _("Unknown customer.")},
                                      help_text=_("For an outgoing inspection, the customer the lot was for."))
    order_reference = forms.CharField(label=_("order / work order number"), max_length=50, required=False)
    product = forms.ModelChoiceField(Product.objects.filter(active=True), label=_("product / part"),
                                     to_field_name="code", error_messages={"invalid_choice": _("Unknown product.")})
    specification = forms.CharField(label=_("specification"), max_length=200, required=False)
    lot_number = forms.CharField(label=_("lot / batch number"), max_length=60,
                                 help_text=_("The lot is put on hold."))
    lot_size = quantity_field(_("lot size"))
    quantity_inspected = quantity_field(_("quantity inspected"))
    sample_size = quantity_field(_("sample size"), required=False)
    quantity_defective = quantity_field(_("defects found"))
    defect_category = forms.ChoiceField(label=_("defect class"), choices=DefectCategory.choices)
    defect_grade = forms.ChoiceField(label=_("defect grade"), choices=DefectGrade.choices)
    phenomenon = forms.CharField(label=_("defect found"), widget=forms.Textarea(attrs={"rows": 3}))
    photos = photos_field()
    cause_man = forms.CharField(label=_("man (人)"), required=False)
    cause_machine = forms.CharField(label=_("machine (机)"), required=False)
    cause_material = forms.CharField(label=_("material (料)"), required=False)
    cause_method = forms.CharField(label=_("method (法)"), required=False)
    cause_environment = forms.CharField(label=_("environment (环)"), required=False)
    cause_measurement = forms.CharField(label=_("measurement (测)"), required=False)
    cause_summary = forms.CharField(label=_("cause analysis"), widget=forms.Textarea(attrs={"rows": 3}))
    interim_measure = forms.CharField(label=_("interim measure"), widget=forms.Textarea(attrs={"rows": 2}))
    actions = forms.MultipleChoiceField(label=_("actions taken"), required=False, widget=forms.CheckboxSelectMultiple,
                                        choices=NcAction.choices)

    def clean(self):
        cleaned = super().clean()
        _not_future(self, "inspected_on")
        _check_photo_count(self)
        size, inspected = cleaned.get("lot_size"), cleaned.get("quantity_inspected")
        sample, defective = cleaned.get("sample_size"), cleaned.get("quantity_defective")
        if size is not None and inspected is not None and inspected > size:
            self.add_error("quantity_inspected", _("Cannot exceed the lot size."))
        if size is not None and sample is not None and sample > size:
            self.add_error("sample_size", _("Cannot exceed the lot size."))
        if inspected is not None and defective is not None and defective > inspected:
            self.add_error("quantity_defective", _("Cannot exceed the quantity inspected."))
        if cleaned.get("origin") == CaseOrigin.IQC and not (cleaned.get("supplier") or "").strip():
            self.add_error("supplier", _("An incoming inspection names the supplier."))
        cleaned["lot_number"] = (cleaned.get("lot_number") or "").strip()
        if "lot_number" not in self.errors and not cleaned["lot_number"]:
            self.add_error("lot_number", _("The lot number is required (the lot is put on hold)."))
        return cleaned


class JudgementForm(StepForm):
    """P2.3 — the Quality manager judges whether the complaint / return is justified (成立); for an
    internal inspection, whether the nonconformity is confirmed."""

    justified = YesNoField(label=_("justified (成立)"), yes=_("Justified"), no=_("Not justified"))
    judgement = forms.CharField(label=_("reasoning"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = _case(self.activation, reported=True)  # the SIG-17 check reads its report next
        if case is not None and case.internal:
            self.fields["justified"].label = _("nonconformity confirmed (成立)")
            self.fields["justified"].help_text = _(
                "Confirmed: the Quality manager disposes the held lot. Not confirmed: the lot conforms and is "
                "released.")


class OutcomeForm(StepForm):
    """[src 6.6.6] Market records what was agreed with the customer."""

    OUTCOMES = NOT_JUSTIFIED_OUTCOMES

    outcome = forms.ChoiceField(label=_("outcome"), widget=forms.RadioSelect)
    notes = forms.CharField(label=_("record of the negotiation"), widget=forms.Textarea(attrs={"rows": 3}))
    amount = amount_field(_("amount agreed (discount, compensation, freight)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [(outcome.value, outcome.label) for outcome in self.OUTCOMES]


class SettlementForm(OutcomeForm):
    """A justified complaint without returned goods: how it is settled with the customer."""

    OUTCOMES = SETTLEMENT_OUTCOMES


class HandoverForm(StepForm):
    """[src 6.6.7] Market hands the returned goods and the anomaly report to Materials."""

    note = forms.CharField(label=_("handover note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Packages, condition, where the goods were left."))


class ReceiptLineForm(forms.Form):
    product = forms.ModelChoiceField(Product.objects.filter(active=True), label=_("product"), to_field_name="code",
                                     error_messages={"invalid_choice": _("Unknown product.")})
    specification = forms.CharField(label=_("specification"), max_length=200, required=False)
    unit = forms.CharField(label=_("unit"), max_length=20, required=False)
    quantity = quantity_field(_("quantity"))
    lot_number = forms.CharField(label=_("lot / batch number"), max_length=60)


ReceiptLineFormSet = forms.formset_factory(ReceiptLineForm, formset=BaseLinesFormSet, extra=0, min_num=1,
                                           validate_min=True, max_num=50, validate_max=True)


class ReceiptForm(StepForm):
    """[src 6.6.8] Materials fills the material receipt (物料入库单) of the returned goods."""

    formsets = {"lines": ReceiptLineFormSet}
    formset_legends = {"lines": _("Goods received")}

    store_location = forms.CharField(label=_("store / location"), max_length=100,
                                     help_text=_("e.g. the nonconforming-goods area of the finished-goods store"))
    acceptance_result = forms.CharField(label=_("acceptance result"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 2}))

    def nested_initial(self, name):
        case = _case(self.activation)
        if case is None or self.is_bound:  # bound: a line equal to its initial value must still count
            return None
        return [{"product": case.product.code, "specification": case.specification, "unit": case.product.unit,
                 "quantity": case.quantity_affected, "lot_number": case.lot_number}]


class DispositionLineForm(forms.Form):
    code = forms.ChoiceField(label=_("disposition"), choices=DispositionCode.choices)
    quantity = quantity_field(_("quantity"))
    note = forms.CharField(label=_("note"), max_length=300, required=False)


DispositionLineFormSet = forms.formset_factory(DispositionLineForm, formset=BaseLinesFormSet, extra=0, min_num=1,
                                               validate_min=True, max_num=len(DispositionCode.values),
                                               validate_max=True)


class DispositionForm(StepForm):
    """P2.5 — the Quality manager disposes the lot: quantities per disposition code,
    summing to the quantity received (让步接收/返工/返修/降级/报废/退供应商)."""

    formsets = {"lines": DispositionLineFormSet}
    formset_legends = {"lines": _("Disposition lines")}

    cost = amount_field(_("cost of the disposition"))
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rules = p2.rules_summary()
        if rules:  # NC-8: who else signs what, as configured
            self.fields["notes"].help_text = "{} {}".format(
                gettext("Every disposition is signed by the Quality manager; also needed:"), "; ".join(rules))

    def nested_initial(self, name):
        case = _case(self.activation)
        receipt = getattr(case, "material_receipt", None) if case else None
        if (receipt is None and not (case and case.internal)) or self.is_bound:  # bound: must still count
            return None
        return [{"code": DispositionCode.SCRAP, "quantity": p2.quantity_to_dispose(case)}]

    def clean_step(self):
        codes = [line["code"] for line in self.cleaned_data.get("lines", [])]
        if len(codes) != len(set(codes)):
            raise forms.ValidationError(_("Each disposition appears once; put its whole quantity on one line."))


class SignoffForm(StepForm):
    """NC-8 — a further signer approves the disposition or rejects it (with a reason)."""

    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CustomerAcceptanceForm(StepForm):
    """NC-4 — the customer's acceptance of a concession, where the contract requires it."""

    accepted = YesNoField(label=_("the customer accepts the concession"), yes=_("Accepted"), no=_("Refused"))
    customer_person = forms.CharField(label=_("who at the customer"), max_length=100)
    accepted_on = forms.DateField(label=_("date of the customer's answer"),
                                  widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("reference (letter, e-mail)"), max_length=100)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        _not_future(self, "accepted_on")
        return cleaned


class ReinspectionForm(StepForm):
    """NC-5 — re-inspection of the reworked / repaired goods before the hold is released."""

    quantity_passed = quantity_field(_("quantity passed"), allow_zero=True)
    quantity_failed = quantity_field(_("quantity failed"), allow_zero=True)
    result = forms.CharField(label=_("result"), widget=forms.Textarea(attrs={"rows": 2}))


class CapaDecisionForm(StepForm):
    """P2.6 — is corrective / preventive action needed? (default yes for a justified case)"""

    capa_required = YesNoField(label=_("corrective / preventive action needed"),
                               yes=_("Yes: request corrective action (P3)"), no=_("No"))
    reason = forms.CharField(label=_("reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Required when no corrective action is taken."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = _case(self.activation)
        if case is not None and p2.capa_default(case):  # a hint, not a preselected answer
            self.fields["capa_required"].help_text = _("The case is justified: corrective action is expected.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("capa_required") is False and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Required when no corrective action is taken."))
        return cleaned


class AnalysisPeriodForm(StepForm):
    """P2.7 — compile the complaint and return analysis of a period now."""

    period_start = forms.DateField(label=_("period start"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("period end"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        start, end = p2.previous_period()
        self.fields["period_start"].initial, self.fields["period_end"].initial = start, end

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("Must not be before the start."))
        _not_future(self, "period_start")
        return cleaned


class AnalysisApprovalForm(StepForm):
    """P2.7 — the Market manager signs the analysis as management-review input."""

    comment = forms.CharField(label=_("management review notes"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))


class MaterialMovementForm(forms.Form):
    """The store's receipt of a supplier lot / issue of a lot to production (NC-1: a held lot is refused)."""

    kind = forms.ChoiceField(label=_("movement"), choices=MovementKind.choices, widget=forms.RadioSelect)
    moved_on = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                               initial=timezone.localdate)
    product = forms.ModelChoiceField(Product.objects.filter(active=True), label=_("product / part"),
                                     to_field_name="code", error_messages={"invalid_choice": _("Unknown product.")})
    lot_number = forms.CharField(label=_("lot / batch number"), max_length=60)
    quantity = quantity_field(_("quantity"))
    supplier = forms.CharField(label=_("supplier"), max_length=200, required=False,
                               help_text=_("Required for a receipt."))
    work_order = forms.CharField(label=_("work order / production line"), max_length=100, required=False,
                                 help_text=_("Required for an issue."))
    document = forms.CharField(label=_("document number (delivery note, picking list)"), max_length=60,
                               required=False)
    store_location = forms.CharField(label=_("store / location"), max_length=100, required=False)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        _not_future(self, "moved_on")
        cleaned["lot_number"] = (cleaned.get("lot_number") or "").strip()
        if "lot_number" not in self.errors and not cleaned["lot_number"]:
            self.add_error("lot_number", _("This field is required."))
        if cleaned.get("kind") == MovementKind.RECEIPT and not (cleaned.get("supplier") or "").strip():
            self.add_error("supplier", _("A receipt names the supplier."))
        if cleaned.get("kind") == MovementKind.ISSUE and not (cleaned.get("work_order") or "").strip():
            self.add_error("work_order", _("An issue names the work order or production line."))
        return cleaned
