"""Browser adapters over workflows.steps: they build the form, call the action,
and turn domain errors into form errors. No business rule lives here."""
import re

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.urls import reverse
from django.views import View

from core.models import ACCOUNTABILITY_STATEMENT
from core import esign
from core.errors import DomainError, Duplicate, InvalidInput, SignatureRefused
from core.models import Meaning

from forms.fields import line_label
from inbox import drafts

from . import actions

SESSION_SIGNED = "esign_session_signed"


#: what pressing a meaning's button does, where a step offers more than one meaning
DECISION_ACTIONS = {Meaning.APPROVED: gettext_lazy("Approve and sign"),
                    Meaning.REJECTED: gettext_lazy("Reject and sign")}


class SignatureForm(forms.Form):
    """The signing dialog (21 CFR 11.200): user ID and password for the first signature
    of a session, the password alone afterwards, a reason or comment, and the meaning.

    The meaning is not chosen from a list: each meaning of the step is a submit button
    (name "sig-meaning", value the meaning) that names what it records, e.g. "Approve and
    sign — meaning of the signature: Approved" beside "Reject and sign — …: Rejected". The
    button pressed is the decision; nothing is preselected (a step with a single meaning
    takes it when the browser sends none, e.g. on Enter). The API sends the meaning in its body."""

    username = forms.CharField(label=gettext_lazy("user ID"), required=False,
                               widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(label=gettext_lazy("password"),
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    meaning = forms.ChoiceField(label=gettext_lazy("your decision"), choices=Meaning.choices, required=False)
    reason = forms.CharField(label=gettext_lazy("reason / comment"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    accept_accountability = forms.BooleanField(label=ACCOUNTABILITY_STATEMENT, required=False)

    def __init__(self, *args, node, user, first_in_session, **kwargs):
        super().__init__(*args, prefix="sig", **kwargs)
        self.meanings = tuple(node.meanings)
        self.fields["meaning"].choices = [(m, Meaning(m).label) for m in self.meanings]
        if any(m in esign.REASON_REQUIRED for m in self.meanings):
            self.fields["reason"].help_text = gettext_lazy("Required to reject.")
        self.first_in_session = first_in_session
        if first_in_session:
            self.fields["username"].required = True
        else:
            del self.fields["username"]
        self.needs_acceptance = not esign.has_accepted_accountability(user)
        if not self.needs_acceptance:
            del self.fields["accept_accountability"]

    @property
    def is_decision(self):
        """More than one meaning (approve or reject): Enter alone must not decide."""
        return len(self.meanings) > 1

    def visible_fields(self):
        return [field for field in super().visible_fields() if field.name != "meaning"]

    def buttons(self):
        """One submit button per meaning, in the step's order: the first is the primary one."""
        buttons = []
        for index, meaning in enumerate(self.meanings):
            action = DECISION_ACTIONS.get(meaning) if self.is_decision else None
            buttons.append({
                "meaning": meaning, "id": "complete" if index == 0 else f"sign-{meaning}",
                "action": action or _("Sign and complete"),
                "records": _("meaning of the signature: %(meaning)s") % {"meaning": Meaning(meaning).label},
                "primary": index == 0, "danger": meaning in esign.REASON_REQUIRED,
            })
        return buttons

    def clean_meaning(self):
        meaning = self.cleaned_data.get("meaning")
        if not meaning and len(self.meanings) == 1:
            meaning = self.meanings[0]
        if not meaning:
            raise forms.ValidationError(_("Press one of the buttons: %(choices)s.") % {
                "choices": " / ".join(str(DECISION_ACTIONS.get(m, Meaning(m).label)) for m in self.meanings)})
        return meaning

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("meaning"):  # the reason a meaning demands, found with the form's other errors
            try:
                esign.validate_signature_input(cleaned["meaning"], cleaned.get("reason", ""), self.meanings)
            except InvalidInput as error:
                for field, messages_ in error.field_errors.items():
                    for message in messages_:
                        self.add_error(field if field in self.fields else None, message)
        return cleaned

    def to_input(self):
        data = self.cleaned_data
        return actions.SignatureInput(
            password=data.get("password", ""), meaning=data.get("meaning", ""), reason=data.get("reason", ""),
            username=data.get("username") if self.first_in_session else None,
            require_username=self.first_in_session,
        )


_LINE_KEY = re.compile(r"^(?P<name>\w+)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?$")


def _add_once(form, field, message):
    """Add `message` to `field` of `form` unless it is already there (the form found it before the action did)."""
    existing = form.errors.get(field or NON_FIELD_ERRORS, [])
    if str(message) not in [str(m) for m in existing]:
        form.add_error(field, message)


def apply_domain_error(error, form, signature_form=None):
    """Put a domain error's field errors on the forms, each once: on the signature form's
    field, the step form's field, a group of line items ("lines") or one line's field
    ("lines[0].quantity"); what names none of them becomes an error of the whole form.
    Returns the message for the page."""
    nested = getattr(form, "nested", {})
    for field, messages_ in error.field_errors.items():
        for message in messages_:
            if signature_form is not None and field in signature_form.fields:
                _add_once(signature_form, field, message)
            elif field in form.fields:
                _add_once(form, field, message)
            elif field in nested:
                errors = nested[field].non_form_errors()
                if str(message) not in [str(m) for m in errors]:
                    errors.append(message)
            elif (match := _LINE_KEY.match(field)) and match["name"] in nested \
                    and int(match["index"]) < len(nested[match["name"]].forms):
                line = nested[match["name"]].forms[int(match["index"])]
                _add_once(line, match["field"] if match["field"] in line.fields else None, message)
            elif field not in ("non_field_errors", "signature") and str(message) != str(error.message):
                _add_once(form, None, message)
    return error.message


def _anchor(bound_field):
    """The id of the input a link to `bound_field` should focus (the first radio button of a group)."""
    return bound_field.id_for_label or bound_field.field.widget.id_for_label(bound_field.auto_id, "0")


def error_summary(form, signature_form=None):
    """The errors of the page in page order, for the banner: [{"href": "#id_…" or None,
    "label": what the link names, "text": a form-wide message}]. A field's own message is
    shown at the field only; the banner names the field and links to it."""
    items = []
    for message in form.non_field_errors():
        items.append({"href": None, "text": message})
    groups = form.fieldsets() if hasattr(form, "fieldsets") else [(None, list(form))]
    for _heading, fields in groups:
        items += [{"href": f"#{_anchor(f)}", "label": f.label} for f in fields if f.errors]
    groups = form.formset_groups() if hasattr(form, "formset_groups") else []
    for formset, heading in groups:
        if not formset.is_bound:
            continue
        for message in formset.non_form_errors():
            items.append({"href": f"#formset-{formset.prefix}", "label": heading, "text": message})
        for index, line in enumerate(formset.forms):
            for message in line.non_field_errors():
                items.append({"href": None, "text": f"{line_label(heading, index + 1)}: {message}"})
            items += [{"href": f"#{_anchor(line[name])}",
                       "label": line_label(line.fields[name].label or name, index + 1)}
                      for name in line.fields if line[name].errors]
    if signature_form is not None and signature_form.is_bound:
        for message in signature_form.non_field_errors():
            items.append({"href": "#signature", "text": message})
        for field in signature_form:
            if field.errors:
                href = "#id_sig-meaning" if field.name == "meaning" else f"#{_anchor(field)}"
                items.append({"href": href, "label": field.label})
    return items


class _StepViewMixin:
    template_name = "workflows/step.html"

    def node(self, request):
        return request.activation.flow_task

    def signature_form(self, request, node, data=None):
        if not node.signs:
            return None
        return SignatureForm(data, node=node, user=request.user,
                             first_in_session=not request.session.get(SESSION_SIGNED))

    def render(self, request, node, form, signature_form, error=None, status=200):
        context = {
            "node": node, "form": form, "signature_form": signature_form, "error": error,
            "process": request.activation.process, "task": request.activation.task,
            "viewset": request.resolver_match.flow_viewset if hasattr(request.resolver_match, "flow_viewset") else None,
            "summary_template": getattr(node.flow_class, "step_summary_template", None),
            "error_items": error_summary(form, signature_form) if error else [],
        }
        return TemplateResponse(request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        node = self.node(request)
        form = node.make_form(activation=request.activation, user=request.user)
        return self.render(request, node, form, self.signature_form(request, node))

    def post(self, request, *args, **kwargs):
        node = self.node(request)
        form = node.make_form(data=request.POST, files=request.FILES, activation=request.activation,
                              user=request.user)
        signature_form = self.signature_form(request, node, request.POST)
        signature_input = None
        if signature_form is not None:
            if not signature_form.is_valid():
                form.is_valid()
                return self.render(request, node, form, signature_form, _("Please correct the errors below."))
            if signature_form.cleaned_data.get("accept_accountability"):
                esign.accept_accountability(request.user)
            signature_input = signature_form.to_input()
        try:
            try:
                result = self.perform(request, node, form, signature_input)
            except IntegrityError as error:  # a unique value someone saved a moment earlier: 409, not 500
                raise Duplicate.from_integrity_error(error) or error
        except (InvalidInput, SignatureRefused) as error:
            message = apply_domain_error(error, form, signature_form)
            return self.render(request, node, form, signature_form, message)
        except DomainError as error:
            message = apply_domain_error(error, form, signature_form)
            return self.render(request, node, form, signature_form, message, status=error.status_code)
        if signature_input is not None:
            request.session[SESSION_SIGNED] = True
        messages.success(request, self.success_message(node, result))
        return HttpResponseRedirect(self.success_url(request, node, result))


class StepView(_StepViewMixin, View):
    def perform(self, request, node, form, signature_input):
        task = request.activation.task
        task.refresh_from_db()
        return actions.complete_step(task, actor=request.user, form=form, signature_input=signature_input)

    def success_message(self, node, task):
        return _("%(step)s completed.") % {"step": node.task_title or node.name}

    def success_url(self, request, node, task):
        return reverse("qms:inbox")  # the one inbox across every procedure

    # --- drafts (inbox/drafts.py): saved without validation, action or signature; reopening pre-fills

    def render(self, request, node, form, signature_form, error=None, status=200):
        task = request.activation.task
        draft = drafts.load_draft(task, request.user)
        if draft is not None and not form.is_bound:
            drafts.prefill(form, draft.data)
        response = super().render(request, node, form, signature_form, error, status)
        response.context_data.update(draft=draft, can_save_draft=drafts.draft_error(task, request.user) is None)
        return response

    def post(self, request, *args, **kwargs):
        if "save_draft" in request.POST or "discard_draft" in request.POST:
            return self.keep_draft(request)
        return super().post(request, *args, **kwargs)

    def keep_draft(self, request):
        node, task = self.node(request), request.activation.task
        try:
            if "discard_draft" in request.POST:
                drafts.discard_draft(task, actor=request.user)
                messages.success(request, _("Draft discarded."))
            else:
                drafts.save_draft(task, actor=request.user, data=drafts.data_from_post(node.form_class, request.POST))
                messages.success(request, _("Draft saved. Nothing was signed or submitted."))
        except DomainError as error:
            messages.error(request, error.message)
        return HttpResponseRedirect(request.get_full_path())


class StartStepView(_StepViewMixin, View):
    def perform(self, request, node, form, signature_input):
        return actions.start_process(node, actor=request.user, form=form, signature_input=signature_input)

    def success_message(self, node, process):
        return _("Process #%(pk)s started.") % {"pk": process.pk}

    def success_url(self, request, node, process):
        return node.flow_class.instance.reverse("process_detail", args=[process.pk])
