"""Browser adapters over workflows.steps: they build the form, call the action,
and turn domain errors into form errors. No business rule lives here."""
from django import forms
from django.contrib import messages
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

from inbox import drafts

from . import actions

SESSION_SIGNED = "esign_session_signed"


class SignatureForm(forms.Form):
    """The signing dialog (21 CFR 11.200): user ID and password for the first signature
    of a session, the password alone afterwards; meaning and reason always."""

    username = forms.CharField(label=gettext_lazy("user ID"), required=False)
    password = forms.CharField(label=gettext_lazy("password"), widget=forms.PasswordInput)
    meaning = forms.ChoiceField(label=gettext_lazy("meaning of the signature"), choices=Meaning.choices)
    reason = forms.CharField(label=gettext_lazy("reason / comment"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    accept_accountability = forms.BooleanField(label=ACCOUNTABILITY_STATEMENT, required=False)

    def __init__(self, *args, node, user, first_in_session, **kwargs):
        super().__init__(*args, prefix="sig", **kwargs)
        self.fields["meaning"].choices = [(m, Meaning(m).label) for m in node.meanings]
        if len(node.meanings) == 1:
            self.fields["meaning"].initial = node.meanings[0]
        self.first_in_session = first_in_session
        if first_in_session:
            self.fields["username"].required = True
        else:
            del self.fields["username"]
        self.needs_acceptance = not esign.has_accepted_accountability(user)
        if not self.needs_acceptance:
            del self.fields["accept_accountability"]

    def to_input(self):
        data = self.cleaned_data
        return actions.SignatureInput(
            password=data.get("password", ""), meaning=data.get("meaning", ""), reason=data.get("reason", ""),
            username=data.get("username") if self.first_in_session else None,
            require_username=self.first_in_session,
        )


def apply_domain_error(error, form, signature_form=None):
    """Put a domain error's field errors on the forms; return the message for the page."""
    for field, messages_ in error.field_errors.items():
        target = form
        if signature_form is not None and field in signature_form.fields:
            target = signature_form
        name = field if field in target.fields else None
        for message in messages_:
            if name:
                target.add_error(name, message)
    return error.message


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
