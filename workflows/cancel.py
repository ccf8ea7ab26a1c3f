"""Cancelling a process or a single task, undoing a step or reviving a cancelled or failed one (viewflow's
cancel, undo and revive pages, administrators only) needs a reason (SIG-13, Annex 11 §9). The reason goes
into the audit entries of the change — the process's, each task's, and for a process a `process.cancelled`
entry on each of its records (workflows.signals) — and the process page shows it, for the process or for
each step cancelled, undone or revived."""
from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.flow.views.actions import (
    CancelProcessView,
    CancelTaskView,
    ReviveTaskView,
    UndoTaskView,
)
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from core.models import AuditEntry

from .signals import correcting

MIN_REASON = 5  # characters: a word or two, not "x"


class CancelReasonForm(forms.Form):
    """The reason a cancel, undo or revive page requires; each page's form says, in its class attributes, what
    the reason is for (`label`), where it goes (`help_text`) and what a too short one lacks (`too_short`)."""

    too_short = _("Say why the process is cancelled (at least %(n)d characters).")
    label = _("reason for cancelling")
    help_text = _("Required; it goes into the audit trail and shows on the process page and its records.")

    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label, self.fields["reason"].help_text = self.label, self.help_text

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < MIN_REASON:
            raise forms.ValidationError(self.too_short % {"n": MIN_REASON})
        return reason


STEP_REASON_HELP = _("Required; it goes into the audit trail of the step and shows on the process page.")


class CancelTaskReasonForm(CancelReasonForm):
    too_short = _("Say why the task is cancelled (at least %(n)d characters).")
    help_text = _("Required; it goes into the audit trail of the task and shows on the process page.")


class UndoTaskReasonForm(CancelReasonForm):
    too_short = _("Say why the step is undone (at least %(n)d characters).")
    label, help_text = _("reason for undoing"), STEP_REASON_HELP


class ReviveTaskReasonForm(CancelReasonForm):
    too_short = _("Say why the step is revived (at least %(n)d characters).")
    label, help_text = _("reason for reviving"), STEP_REASON_HELP


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
            with correcting(form.cleaned_data["reason"]):
                self.object.flow_class.instance.cancel(self.object)
        except FlowRuntimeError:
            return self._cannot_cancel()
        messages.add_message(request, messages.SUCCESS,
                             _("Process #%(pk)s has been canceled.") % {"pk": self.object.pk}, fail_silently=True)
        return HttpResponseRedirect("../")


class _ReasonRequired:
    """A viewflow task page (cancel, undo, revive: `stock`, same permission) whose form requires a reason;
    the change (`change`) is made with it (workflows.signals.correcting), so the task's audit entry carries
    it. Without one nothing changes and the page says what is missing (400)."""

    stock = None
    #: the pages' one template (templates/viewflow/workflow/task_reason.html): the form's id (`task-<name>-form`),
    #: the action's label (breadcrumb and button), and whether the page goes back to the process page (cancel,
    #: undo) or where viewflow's page goes next (revive: the new task)
    template_name = "viewflow/workflow/task_reason.html"
    name, action, back_to_process = None, None, True

    def change(self, activation):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        kwargs.update(reason_action=self.action, reason_form_id=f"task-{self.name}-form",
                      reason_back=self.back_to_process)
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        with correcting(form.cleaned_data["reason"], task=self.request.activation.task):
            self.change(self.request.activation)
        return super(self.stock, self).form_valid(form)  # viewflow's message and redirect, not its change again

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CancelTaskWithReasonView(_ReasonRequired, CancelTaskView):
    stock, form_class, name, action = CancelTaskView, CancelTaskReasonForm, "cancel", _("Cancel")

    def change(self, activation):
        activation.cancel()


class UndoTaskWithReasonView(_ReasonRequired, UndoTaskView):
    stock, form_class, name, action = UndoTaskView, UndoTaskReasonForm, "undo", _("Undo")

    def change(self, activation):
        activation.undo()


class ReviveTaskWithReasonView(_ReasonRequired, ReviveTaskView):
    stock, form_class, name, action = ReviveTaskView, ReviveTaskReasonForm, "revive", _("Revive")
    back_to_process = False

    def change(self, activation):
        self.new_task = activation.revive()  # where viewflow's page goes next


REASONED_VIEWS = {"cancel_view_class": (CancelTaskView, CancelTaskWithReasonView),
                  "undo_view_class": (UndoTaskView, UndoTaskWithReasonView),
                  "revive_view_class": (ReviveTaskView, ReviveTaskWithReasonView)}


def with_cancel_reasons(flow_class):
    """Every node of `flow_class` that has viewflow's task cancel, undo or revive page gets the one asking for
    a reason."""
    for node in vars(flow_class).values():
        for attribute, (stock, reasoned) in REASONED_VIEWS.items():
            if getattr(node, attribute, None) is stock:
                setattr(node, attribute, reasoned)


def cancellation_of(process):
    """The audit entry of `process`'s cancellation (who, when, why), or None."""
    if process.status != PROCESS.CANCELED:
        return None
    return (AuditEntry.objects.filter(process_id=process.pk, action="process.status_changed",
                                      new_values__status=PROCESS.CANCELED).order_by("-seq").first())


def task_cancellations(process):
    """The steps of `process` that an administrator cancelled, undid or revived one by one, each with its audit
    entry (who, when, why) as `entry`, its step as `task`, `kind` ("cancelled", "undone": a finished step
    cancelled, "revived") and its `label` (CORRECTIONS). For a cancelled process, the steps that went with it are left to its own
    cancellation (cancellation_of), which carries the same reason."""
    entries = AuditEntry.objects.filter(process_id=process.pk, action="task.status_changed",
                                        new_values__status__in=[STATUS.CANCELED, STATUS.REVIVED]).order_by("seq")
    whole = cancellation_of(process)
    if whole is not None:
        entries = entries.exclude(reason=whole.reason)
    entries = [entry for entry in entries if entry.object_id.isdigit()]
    tasks = Task.objects.in_bulk([int(entry.object_id) for entry in entries])
    return [{"entry": entry, "task": tasks.get(int(entry.object_id)), "kind": _kind(entry),
             "label": CORRECTIONS[_kind(entry)]} for entry in entries]


CORRECTIONS = {"cancelled": _("step cancelled"), "undone": _("step undone"), "revived": _("step revived")}


def _kind(entry):
    if entry.new_values.get("status") == STATUS.REVIVED:
        return "revived"
    return "undone" if (entry.old_values or {}).get("status") == STATUS.DONE else "cancelled"
