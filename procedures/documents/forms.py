"""Django forms of the document-control steps (input shape only; business state is
checked in actions.py)."""
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from core import registry
from core.registry import flows
from forms.stepforms import StepForm
from forms.uploads import MultipleFileField, validate_upload

from .binding import flow_key
from .models import Document, DocumentType, revision_of

DEPARTMENT_CHOICES = [(d.value, d.label) for d in Department]


class ControlledPdfField(forms.FileField):
    """The controlled rendition of a revision: a PDF (checked by content), size-limited."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return None
        if not (upload.name or "").lower().endswith(".pdf"):
            raise forms.ValidationError(_("The controlled file must be a PDF."))
        content_type, sha256 = validate_upload(upload)
        return upload, content_type, sha256


class DocumentByNumberField(forms.ModelChoiceField):
    def prepare_value(self, value):
        if isinstance(value, Document):
            return value.number
        return super().prepare_value(value)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        document = self.queryset.filter(number=str(value)).first()
        if document is None:
            raise forms.ValidationError(_("Unknown document."), code="invalid_choice")
        return document


class ChangeRequestForm(StepForm):
    """ISO 7.5.2 / DOC-10 — anyone may ask for a controlled document to be changed or withdrawn."""

    document = DocumentByNumberField(Document.objects.all(), label=_("document"))
    withdrawal = forms.BooleanField(label=_("withdraw the document (make it obsolete)"), required=False)
    reason = forms.CharField(label=_("reason for the change"), widget=forms.Textarea(attrs={"rows": 3}))


def _flow_choices():
    return [("", "—")] + [(flow_key(f), str(f.process_title)) for f in flows()]


class NewDocumentForm(StepForm):
    """Quality registers a new controlled document; its first revision A/0 starts as a draft."""

    number = forms.CharField(label=_("document number"), max_length=32,
                             help_text=_("e.g. QP-MK-01 (procedure), QR-MK-001 (form)"))
    title_zh = forms.CharField(label=_("title (Chinese)"), max_length=200)
    title_en = forms.CharField(label=_("title (English)"), max_length=200)
    doc_type = forms.ChoiceField(label=_("type"), choices=DocumentType.choices)
    owner_department = forms.ChoiceField(label=_("owner department"), choices=DEPARTMENT_CHOICES)
    review_interval_months = forms.IntegerField(label=_("periodic review every (months)"), min_value=1,
                                                max_value=60, initial=12)
    retention_years = forms.IntegerField(label=_("retention (years)"), min_value=1, max_value=100, initial=10)
    distribution = forms.MultipleChoiceField(label=_("distribution (departments)"), choices=DEPARTMENT_CHOICES,
                                             widget=forms.CheckboxSelectMultiple, required=False)
    external_issuer = forms.CharField(label=_("issued by (external origin)"), max_length=200, required=False)
    governs_record_type = forms.ChoiceField(label=_("governs record type (blank forms)"), required=False,
                                            choices=[])
    governs_flow = forms.ChoiceField(label=_("governs workflow (procedures)"), required=False, choices=[])
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["governs_record_type"].choices = [("", "—")] + [(t.code, t.title) for t in registry.all_types()]
        self.fields["governs_flow"].choices = _flow_choices()

    def clean_number(self):
        number = self.cleaned_data["number"].strip().upper()
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9\-./]{1,31}", number):
            raise forms.ValidationError(_("Use letters, digits and - . / only."))
        if Document.objects.filter(number=number).exists():
            raise forms.ValidationError(_("This document number is taken."))
        return number

    def clean(self):
        cleaned = super().clean()
        doc_type = cleaned.get("doc_type")
        if doc_type == DocumentType.EXTERNAL and not cleaned.get("external_issuer"):
            self.add_error("external_issuer", _("Name the issuer of a document of external origin."))
        if cleaned.get("governs_record_type") and doc_type != DocumentType.FORM:
            self.add_error("governs_record_type", _("Only a blank form governs a record type."))
        if cleaned.get("governs_flow") and doc_type != DocumentType.PROCEDURE:
            self.add_error("governs_flow", _("Only a procedure governs a workflow."))
        record_type = cleaned.get("governs_record_type")
        if record_type and Document.objects.filter(governs_record_type=record_type).exists():
            self.add_error("governs_record_type", _("Another form already governs this record type."))
        flow = cleaned.get("governs_flow")
        if flow and Document.objects.filter(governs_flow=flow).exists():
            self.add_error("governs_flow", _("Another procedure already governs this workflow."))
        return cleaned


class DraftForm(StepForm):
    """The owner department prepares the revision."""

    outcome = forms.ChoiceField(label=_("action"), widget=forms.RadioSelect,
                                choices=[("submit", _("Submit for review")), ("abandon", _("Abandon this change"))])
    pdf = ControlledPdfField(label=_("controlled PDF"), required=False)
    sources = MultipleFileField(label=_("source files (Word, Excel, images)"), required=False)
    change_summary = forms.CharField(label=_("what changed"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    effective_date = forms.DateField(label=_("proposed effective date"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    distribution = forms.MultipleChoiceField(label=_("distribution (departments)"), choices=DEPARTMENT_CHOICES,
                                             widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        revision = _revision(self.activation)
        if revision is not None and not self.is_bound:
            self.fields["distribution"].initial = revision.document.distribution

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == "abandon":
            if not (cleaned.get("change_summary") or "").strip():
                self.add_error("change_summary", _("Say why the change is abandoned."))
            return cleaned
        if not (cleaned.get("change_summary") or "").strip():
            self.add_error("change_summary", _("Required."))
        date = cleaned.get("effective_date")
        if date is None:
            self.add_error("effective_date", _("Required."))
        elif date < timezone.localdate():
            self.add_error("effective_date", _("The effective date is in the past."))
        return cleaned


class DocumentReviewForm(StepForm):
    accepted = forms.TypedChoiceField(label=_("verdict"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
                                      choices=[("yes", _("Agree")), ("no", _("Changes needed"))])
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DocumentApprovalForm(StepForm):
    effective_date = forms.DateField(label=_("effective date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        revision = _revision(self.activation)
        if revision is not None:
            self.fields["effective_date"].initial = revision.effective_date


class PeriodicReviewForm(StepForm):
    outcome = forms.ChoiceField(label=_("outcome"), widget=forms.RadioSelect,
                                choices=[("no_change", _("Still adequate: no change")),
                                         ("change", _("Needs a change: open a revision"))])
    comment = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}))


class AcknowledgeForm(StepForm):
    confirm = forms.BooleanField(label=_("I have read and understood this revision."))


def _revision(activation):
    if activation is None or not getattr(activation.process, "pk", None):
        return None
    return revision_of(activation.process)

