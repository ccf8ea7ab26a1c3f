"""Django forms of the P3 steps (corrective and preventive action, 8D). Input shape is
validated here; business state (open actions, due dates against today and each other,
closure conditions) in actions.py."""
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from forms.stepforms import StepForm
from forms.uploads import MultipleFileField

from procedures.capa import actions as p3
from procedures.capa.models import CapaSource, PreventionKind, Severity, SixM
from forms.fields import BaseLinesFormSet, YesNoField, quantity_field
from procedures.documents.entry import controlled_documents


def _users():
    return User.objects.filter(is_active=True).order_by("username")


class UserField(forms.ModelChoiceField):
    """A real user, chosen by username (API) or from the list (browser)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=_users(), to_field_name="username", **kwargs)

    def label_from_instance(self, user):
        return f"{user.printed_name} ({user.username})"


class UsersField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=_users(), to_field_name="username", **kwargs)

    def label_from_instance(self, user):
        return f"{user.printed_name} ({user.username})"


def _text(label, required=True, rows=2, **kwargs):
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


def _date(label, required=True, **kwargs):
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


def _case(activation):
    if activation is None or not getattr(activation.process, "pk", None):
        return None
    return p3.capa_of_process(activation.process)


class CapaRaiseForm(StepForm):
    """CA-1 — Quality raises a corrective action by hand, naming its source."""

    sections = (
        (_("Source"), ("source", "source_reference")),
        (_("Problem"), ("title", "customer_name", "product_text", "quantity_defective", "severity")),
    )

    source = forms.ChoiceField(label=_("source"), choices=CapaSource.choices)
    source_reference = forms.CharField(label=_("source reference"), max_length=100, required=False,
                                       help_text=_("e.g. the audit finding, NC report or management review number"))
    title = forms.CharField(label=_("problem title"), max_length=200)
    customer_name = forms.CharField(label=_("customer"), max_length=200, required=False)
    product_text = forms.CharField(label=_("product / lot"), max_length=300, required=False)
    quantity_defective = quantity_field(_("quantity defective"), required=False, allow_zero=True)
    severity = forms.ChoiceField(label=_("severity"), choices=Severity.choices, initial=Severity.B)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("source") and cleaned["source"] != CapaSource.MANUAL and \
                not (cleaned.get("source_reference") or "").strip():
            self.add_error("source_reference", _("Required for this source."))
        return cleaned


class DescribeForm(StepForm):
    """D0 emergency response, D1 team, D2 problem description (5W2H, is / is-not)."""

    sections = (
        (_("D0 emergency response"), ("emergency_response",)),
        (_("D1 team"), ("champion", "leader", "members")),
        (_("D2 problem description (5W2H)"), ("severity", "what", "where", "when", "who", "why", "how", "how_many")),
        (_("D2 is / is not"), ("is_text", "is_not_text")),
    )

    emergency_response = _text(_("D0 emergency response"),
                               help_text=_("immediate correction, suspect stock contained, customer informed"))
    champion = UserField(label=_("champion"))
    leader = UserField(label=_("team leader"))
    members = UsersField(label=_("team members"), required=False)
    severity = forms.ChoiceField(label=_("severity"), choices=Severity.choices, required=False)
    what = _text(_("what (the problem)"))
    where = forms.CharField(label=_("where"), max_length=300)
    when = forms.CharField(label=_("when"), max_length=300)
    who = forms.CharField(label=_("who found / is affected"), max_length=300, required=False)
    why = forms.CharField(label=_("why it matters"), max_length=300, required=False)
    how = forms.CharField(label=_("how it was found"), max_length=300, required=False)
    how_many = forms.CharField(label=_("how many (quantity, rate)"), max_length=300)
    is_text = _text(_("is (where / when it occurs)"))
    is_not_text = _text(_("is not (where / when it could, but does not)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = _case(self.activation)
        if case is not None:
            self.fields["severity"].initial = case.severity


class ContainmentForm(StepForm):
    """D3 — interim containment and its verification."""

    containment = _text(_("D3 containment actions"), rows=3)
    verification = _text(_("containment verified (how, by whom, result)"))


class WhyForm(forms.Form):
    question = forms.CharField(label=_("why?"), max_length=500, required=False)
    answer = forms.CharField(label=_("because"), max_length=500, required=False)


class CauseForm(forms.Form):
    category = forms.ChoiceField(label=_("6M category"), choices=SixM.choices)
    cause = forms.CharField(label=_("cause"), max_length=300)
    is_root = forms.BooleanField(label=_("root cause"), required=False)


WhyFormSet = forms.formset_factory(WhyForm, formset=BaseLinesFormSet, extra=0, min_num=1, validate_min=True,
                                   max_num=20, validate_max=True)
CauseFormSet = forms.formset_factory(CauseForm, formset=BaseLinesFormSet, extra=0, max_num=60, validate_max=True)


class RootCauseForm(StepForm):
    """D4 — the ordered 5-Why chain (any depth), the 6M fishbone, the root cause and the
    escape point; similar nonconformities elsewhere."""

    formsets = {"whys": WhyFormSet, "causes": CauseFormSet}
    formset_legends = {"whys": _("5-Why chain"), "causes": _("Fishbone (6M)")}
    sections = ((_("D4 root cause"), ("root_cause", "escape_point", "similar_elsewhere")),)

    root_cause = _text(_("root cause"))
    escape_point = _text(_("escape point (where it should have been caught)"))
    similar_elsewhere = _text(_("similar nonconformities elsewhere?"), required=False)

    def clean_step(self):
        whys = [w for w in self.cleaned_data.get("whys", []) if w.get("question") or w.get("answer")]
        if not whys:
            raise forms.ValidationError(_("Give at least one why and its answer."))


class ActionLineForm(forms.Form):
    description = forms.CharField(label=_("action"), max_length=500)
    owner = UserField(label=_("owner"))
    due_date = _date(_("due date"))

    def clean_due_date(self):
        value = self.cleaned_data["due_date"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The due date may not be in the past."))
        return value


ActionFormSet = forms.formset_factory(ActionLineForm, formset=BaseLinesFormSet, extra=0, min_num=1,
                                      validate_min=True, max_num=30, validate_max=True)


class PlanForm(StepForm):
    """D5 — the permanent actions chosen, each with an owner and a due date (CA-5)."""

    formsets = {"actions": ActionFormSet}
    formset_legends = {"actions": _("D5 permanent actions")}

    def nested_initial(self, name):
        case = _case(self.activation)
        if name == "actions" and case is not None and not self.is_bound:
            return [{"description": a.description, "owner": a.owner.username, "due_date": a.due_date}
                    for a in case.actions.filter(round=case.round)] or None
        return None


class PlanApprovalForm(StepForm):
    """The Quality manager approves the plan (signature meaning: approved) or sends it back
    (rejected, with the reason in the signature)."""

    comment = _text(_("comment"), required=False)


class ActionStepForm(StepForm):
    """The owner's task: done with evidence, or ask for a later due date."""

    outcome = forms.ChoiceField(label=_("outcome"), widget=forms.RadioSelect,
                                choices=[("done", _("Done: here is the evidence")),
                                         ("extension", _("Ask for a later due date"))])
    evidence = _text(_("evidence"), required=False, rows=3)
    attachments = MultipleFileField(label=_("evidence files"), required=False)
    new_due_date = _date(_("new due date"), required=False)
    reason = _text(_("reason for the extension"), required=False)

    def clean_step(self):
        data = self.cleaned_data
        if data.get("outcome") == "done" and not (data.get("evidence") or "").strip():
            self.add_error("evidence", _("Describe the evidence."))
        if data.get("outcome") == "extension":
            if not data.get("new_due_date"):
                self.add_error("new_due_date", _("Give the new due date."))
            if not (data.get("reason") or "").strip():
                self.add_error("reason", _("Give the reason for the extension."))


class ExtensionDecisionForm(StepForm):
    """CA-5 — the Quality manager approves or rejects an extension request (reason when rejecting)."""

    approved = YesNoField(label=_("extend the due date"), yes=_("Approve"), no=_("Reject"))
    reason = _text(_("reason"), required=False, help_text=_("Required when rejecting."))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("approved") is False and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Required when rejecting."))
        return cleaned


class ValidationForm(StepForm):
    """D6 — implemented and validated, containment removed; the date of the effectiveness check."""

    validation = _text(_("D6 validation (how the actions were shown to work)"), rows=3)
    containment_removed = YesNoField(label=_("containment removed"))
    verification_date = _date(_("effectiveness check on"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = _case(self.activation)
        if case is not None:
            self.fields["verification_date"].initial = p3.default_verification_date(case)


class VerificationForm(StepForm):
    """CA-3 — the effectiveness review: result, date (now), reviewer (the signer)."""

    effective = YesNoField(label=_("effective"), yes=_("Effective"), no=_("Not effective: back to D4"))
    result = _text(_("result of the check"), rows=3)


class PreventionItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=PreventionKind.choices)
    description = forms.CharField(label=_("what changes"), max_length=500)
    document = forms.ModelChoiceField(label=_("document"), required=False, queryset=None, to_field_name="number")
    raise_change = forms.BooleanField(label=_("raise a document change request"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = controlled_documents()


PreventionFormSet = forms.formset_factory(PreventionItemForm, formset=BaseLinesFormSet, extra=0, min_num=1,
                                          validate_min=True, max_num=30, validate_max=True)


class PreventionForm(StepForm):
    """D7 — documents and similar products; each item may raise a document change (P4)."""

    formsets = {"prevention": PreventionFormSet}
    formset_legends = {"prevention": _("D7: prevent recurrence")}


class ClosureForm(StepForm):
    """D8 — "risks updated?" and "QMS change needed?" answered (CA-4); closing summary."""

    sections = (
        (_("Risks and the QMS"), ("risks_updated", "risks_note", "qms_change_needed")),
        (_("D8 closing"), ("closing_summary",)),
    )

    risks_updated = YesNoField(label=_("risks updated?"))
    risks_note = _text(_("risk register note"), required=False)
    qms_change_needed = YesNoField(label=_("QMS change needed?"))
    closing_summary = _text(_("D8 closing summary and team recognition"))
