"""Cancelling a process (viewflow's process cancel page, administrators only) needs a reason (SIG-13,
Annex 11 §9). The reason goes into the audit entries of the cancellation — the process's, each cancelled
task's, and a `process.cancelled` entry on each of the process's records (workflows.signals) — and the
process page shows it."""
from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.flow.views.actions import CancelProcessView
from viewflow.workflow.status import PROCESS

from core.models import AuditEntry

from .signals import cancelling

MIN_REASON = 5  # characters: a word or two, not "x"


class CancelReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason for cancelling"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Required; it goes into the audit trail and shows on the process "
                                         "page and its records."))

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < MIN_REASON:
            raise forms.ValidationError(_("Say why the process is cancelled (at least %(n)d characters).")
                                        % {"n": MIN_REASON})
        return reason


class CancelProcessWithReasonView(CancelProcessView):
    """viewflow's cancel page (same permission: the flow's manage permission) with a required reason;
    without one nothing is cancelled and the page says what is missing (400)."""

    def get_context_data(self, **kwargs):
        kwargs.setdefault("reason_form", CancelReasonForm())
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        if "_cancel_process" not in request.POST or self.object.status in (PROCESS.DONE, PROCESS.CANCELED):
            return super().post(request, *args, **kwargs)
        form = CancelReasonForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(object=self.object, reason_form=form), status=400)
        if not self.can_cancel:
            return self._cannot_cancel()
        try:
            with cancelling(form.cleaned_data["reason"]):
                self.object.flow_class.instance.cancel(self.object)
        except FlowRuntimeError:
            return self._cannot_cancel()
        messages.add_message(request, messages.SUCCESS,
                             _("Process #%(pk)s has been canceled.") % {"pk": self.object.pk}, fail_silently=True)
        return HttpResponseRedirect("../")


def cancellation_of(process):
    """The audit entry of `process`'s cancellation (who, when, why), or None."""
    if process.status != PROCESS.CANCELED:
        return None
    return (AuditEntry.objects.filter(process_id=process.pk, action="process.status_changed",
                                      new_values__status=PROCESS.CANCELED).order_by("-seq").first())
