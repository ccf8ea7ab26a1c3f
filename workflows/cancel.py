"""Cancelling a process or a single task (viewflow's cancel pages, administrators only) needs a reason
(SIG-13, Annex 11 §9). The reason goes into the audit entries of the cancellation — the process's, each
cancelled task's, and for a process a `process.cancelled` entry on each of its records
(workflows.signals) — and the process page shows it, for the process or for each step cancelled."""
from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.flow.views.actions import CancelProcessView, CancelTaskView
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from core.models import AuditEntry

from .signals import cancelling

MIN_REASON = 5  # characters: a word or two, not "x"


class CancelReasonForm(forms.Form):
    too_short = _("Say why the process is cancelled (at least %(n)d characters).")

    reason = forms.CharField(label=_("reason for cancelling"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Required; it goes into the audit trail and shows on the process "
                                         "page and its records."))

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < MIN_REASON:
            raise forms.ValidationError(self.too_short % {"n": MIN_REASON})
        return reason


class CancelTaskReasonForm(CancelReasonForm):
    too_short = _("Say why the task is cancelled (at least %(n)d characters).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _("Required; it goes into the audit trail of the task and shows on "
                                            "the process page.")


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


class CancelTaskWithReasonView(CancelTaskView):
    """viewflow's task cancel page (same permission: the flow's manage permission) with a required
    reason, which the task's audit entry carries; without one nothing is cancelled (400)."""

    form_class = CancelTaskReasonForm

    def form_valid(self, form):
        with cancelling(form.cleaned_data["reason"]):
            self.request.activation.cancel()
        return super(CancelTaskView, self).form_valid(form)  # the message and redirect, not a second cancel

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


def with_cancel_reasons(flow_class):
    """Every node of `flow_class` that has viewflow's task cancel page gets the one asking for a reason."""
    for node in vars(flow_class).values():
        if getattr(node, "cancel_view_class", None) is CancelTaskView:
            node.cancel_view_class = CancelTaskWithReasonView


def cancellation_of(process):
    """The audit entry of `process`'s cancellation (who, when, why), or None."""
    if process.status != PROCESS.CANCELED:
        return None
    return (AuditEntry.objects.filter(process_id=process.pk, action="process.status_changed",
                                      new_values__status=PROCESS.CANCELED).order_by("-seq").first())


def task_cancellations(process):
    """The steps of `process` that an administrator cancelled one by one, each with its audit entry (who, when,
    why) as `entry` and its step as `task`. For a cancelled process, the steps that went with it are left to
    its own cancellation (cancellation_of), which carries the same reason."""
    entries = AuditEntry.objects.filter(process_id=process.pk, action="task.status_changed",
                                        new_values__status=STATUS.CANCELED).order_by("seq")
    whole = cancellation_of(process)
    if whole is not None:
        entries = entries.exclude(reason=whole.reason)
    entries = [entry for entry in entries if entry.object_id.isdigit()]
    tasks = Task.objects.in_bulk([int(entry.object_id) for entry in entries])
    return [{"entry": entry, "task": tasks.get(int(entry.object_id))} for entry in entries]
