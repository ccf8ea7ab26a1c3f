"""P3 — Corrective and preventive action (纠正预防措施控制程序), PROCEDURES.md P3, src 6.6.9
and ISO 9001 10.2, as an 8D: D0 emergency response, D1 team, D2 problem, D3 containment,
D4 root cause (5-Why, 6M fishbone, escape point), D5 permanent actions approved by the
Quality manager, each action in its owner's inbox (due dates move only by an approved
extension), D6 implemented and validated with the effectiveness check's date, the check
on that date (not effective → D4 again), D7 prevention (document changes via P4), D8
closure. Swimlanes (who) in comments; business rules live in actions.py."""
from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from accounts.models import Department, scheduler_user
from core.access import can_view_processes
from core.context import acting_as_system
from core.models import Meaning
from inbox.notify import preload_preferences
from forms.pdf import render_version
from procedures.capa import actions as p3
from procedures.capa.forms import (
    ActionStepForm, CapaRaiseForm, ClosureForm, ContainmentForm, DescribeForm, ExtensionDecisionForm,
    PlanApprovalForm, PlanForm, PreventionForm, RootCauseForm, ValidationForm, VerificationForm,
)
from procedures.capa.models import ActionStatus, CapaAction, CapaCase, CapaStatus

from workflows import gateways
from workflows.base import QmsFlow, decided, manager, remember, staff
from procedures.capa.subjects import subjects as subjects_of
from procedures.capa.models import CapaProcess, capa_case_of
from workflows.models import artifact_ref, attach_artifact
from workflows.jobs import CeleryJob
from workflows.steps import FanOut, Step, StartStep



def case_of(activation):
    case = capa_case_of(activation.process)
    case.refresh_from_db()
    return case


def leader(activation):
    """D3, D4, D5 and D7 go to the 8D team leader named in D1."""
    return case_of(activation).leader


def action_id(activation):
    """The action a task of the action branch works on. The fan-out gives it as
    task.data; a task reached again through the extension loop takes it from the
    process (set by the step that led there, under the flow lock) and keeps it."""
    if not (activation.task.data or {}).get("action"):
        activation.task.data = {"action": (activation.process.data or {}).get("current_action")}
    return activation.task.data["action"]


def action_owner(activation):
    planned = _planned(activation.process).get(action_id(activation))
    if planned is not None:
        return planned.owner
    return CapaAction.objects.select_related("owner").get(pk=action_id(activation)).owner


def extension_approver(activation):
    action_id(activation)  # keeps the action on the task
    return manager(Department.QUALITY)


PLANNED = "_capa_planned"  # on the process object: {action pk: action} read by planned_actions()


def _planned(process):
    return getattr(process, PLANNED, None) or {}


def planned_actions(activation):
    """One task per open action of the round, in its owner's inbox. The actions are read
    here (one query, with their owners) and kept on the process object for the tasks this
    fan-out creates next, under the same lock: action_owner() and action_due() take each
    task's action from there (action_due() removes it: the task's deadline is its last use)."""
    process = activation.process
    case = case_reference(process)
    actions = p3.locked_open_actions(case)  # read by the plan approval just now, under its lock
    if actions is None:
        actions = list(CapaAction.objects.filter(case_id=case.pk, status=ActionStatus.OPEN, round=F("case__round"))
                       .select_related("owner", "case__record").order_by("position", "pk"))
    setattr(process, PLANNED, {a.pk: a for a in actions})
    if actions and not isinstance(getattr(process, "_artifact", None), CapaCase):
        process._artifact = actions[0].case  # read just now, with its record: the tasks' subject (subjects.py)
    preload_preferences([a.owner for a in actions], process)  # their "new task" messages: one query
    return [{"action": a.pk} for a in actions]


def plan_in_force(activation):
    """Did the Quality manager approve the plan just now? The case is then in implementation (a rejection sends
    it back to planning): read from the copy the approval locked and saved, else from the case's row."""
    ref = case_reference(activation.process)
    case = p3.LOCKS.current(ref)
    status = case.status if case is not None else CapaCase.objects.values_list("status", flat=True).get(pk=ref.pk)
    return status == CapaStatus.IMPLEMENTATION


def case_reference(process):
    """The process's case for a business action that locks and reads it itself (actions._lock):
    the cached artifact, else a reference by key without a query (only its pk may be used)."""
    cached = getattr(process, "_artifact", None)
    if isinstance(cached, CapaCase):
        return cached
    if (process.artifact_object_id and process.artifact_content_type_id
            and ContentType.objects.get_for_id(process.artifact_content_type_id).model_class() is CapaCase):
        return artifact_ref(process, CapaCase)  # the same one per process
    return capa_case_of(process)


class CapaFlow(QmsFlow):
    process_class = CapaProcess
    process_title = _("Corrective and preventive action")
    process_description = _("PROCEDURES P3: corrective and preventive action (8D) with effectiveness checks.")
    process_summary_template = "{{ process.summary_text }}"
    step_summary_template = "capa/step_summary.html"

    @classmethod
    def subjects(cls, processes):
        """What each process is about, for the task lists and notifications (subjects.py)."""
        return subjects_of(processes)

    # [P3, CA-1] Quality (staff or manager): raise a corrective action by hand, naming its
    # source (internal NC, audit finding, management review, …).
    start = (
        StartStep(CapaRaiseForm, this.raised_by_hand)
        .Annotation(title=_("Raise a corrective action"))
        .Permission(staff(Department.QUALITY))
        .Next(this.describe)
    )
    # [src 6.6.9, CA-1] P2.6 raises it from a justified complaint / return, linked both ways.
    start_raised = flow.StartHandle(this.raised_from_complaint).Next(this.describe)
    # [CA-1] Another procedure's record raises it (e.g. a P5 customer requirement), linked both ways.
    start_from_record = flow.StartHandle(this.raised_from_record).Next(this.describe)

    # [P3.1, 8D-1 D0–D2] Quality: emergency response, the team, the problem in 5W2H and is / is-not.
    describe = (
        Step(DescribeForm, this.described)
        .Annotation(title=_("D0–D2: team and problem description"))
        .Permission(staff(Department.QUALITY))
        .Next(this.contain)
    )
    # [P3.1, D3] Team leader: contain the problem and verify the containment.
    contain = (
        Step(ContainmentForm, this.contained)
        .Annotation(title=_("D3: containment"))
        .Assign(leader)
        .Next(this.analyse)
    )
    # [P3.2, D4, 8D-3] Team leader: 5-Why chain, 6M fishbone, root cause, escape point,
    # similar nonconformities elsewhere.
    analyse = (
        Step(RootCauseForm, this.analysed)
        .Annotation(title=_("D4: root cause"))
        .Assign(leader)
        .Next(this.plan)
    )
    # [P3.3, D5, CA-5] Team leader: the permanent actions, each with an owner and a due date.
    plan = (
        Step(PlanForm, this.planned)
        .Annotation(title=_("D5: permanent actions"))
        .Assign(leader)
        .Next(this.approve_plan)
    )
    # [P3.3] Quality manager: approve the plan (signed) or send it back.
    approve_plan = (
        Step(PlanApprovalForm, this.plan_decided, meanings=[Meaning.APPROVED, Meaning.REJECTED])
        .Annotation(title=_("Approve the action plan"))
        .Permission(manager(Department.QUALITY))
        .Next(this.plan_approved)
    )
    plan_approved = (
        gateways.If(plan_in_force).Annotation(title=_("Plan approved?"))
        .Then(this.actions)
        .Else(this.plan)
    )

    # [P3.4, CA-5] Each owner carries out and evidences their action (a task in their inbox,
    # due on the action's own due date), or asks for a later date.
    actions = FanOut().Annotation(title=_("Actions")).Next(this.do_action, data_source=planned_actions)
    do_action = (
        Step(ActionStepForm, this.action_reported, due=this.action_due)
        .Annotation(title=_("Carry out the action"))
        .Assign(action_owner)
        .Next(this.extension_asked)
    )
    extension_asked = (
        gateways.If(decided("extension", True)).Annotation(title=_("Extension asked?"))
        .Then(this.decide_extension)
        .Else(this.actions_done)
    )
    # [CA-5] Quality manager: approve or reject the new due date (reason when rejecting).
    decide_extension = (
        Step(ExtensionDecisionForm, this.extension_decided)
        .Annotation(title=_("Decide on a due-date extension"))
        .Permission(extension_approver)
        .Next(this.do_action)
    )
    actions_done = gateways.Join().Annotation(title=_("All actions done")).Next(this.validate)

    # [P3.4, D6] Quality manager: implemented and validated, containment removed; sets the
    # date of the effectiveness check (default QMS["CAPA_VERIFICATION_DAYS"] after the last due date).
    validate = (
        Step(ValidationForm, this.validated, meanings=[Meaning.APPROVED])
        .Annotation(title=_("D6: validate and plan the effectiveness check"))
        .Permission(manager(Department.QUALITY))
        .Next(this.wait_for_verification)
    )
    # [P3.5, CA-3] On the verification date (a database timer fired by Celery beat) the
    # check opens in Quality's queue.
    wait_for_verification = (
        gateways.Timer(this.verification_moment).Annotation(title=_("Verification date")).Next(this.verification_due)
    )
    verification_due = flow.Function(this.open_verification).Annotation(title=_("Open the check")) \
        .Next(this.verify)
    # [P3.5, CA-3] Quality: effective? (result, date, reviewer; signed). Not effective → D4.
    verify = (
        Step(VerificationForm, this.verified, meanings=[Meaning.VERIFIED])
        .Annotation(title=_("Verify effectiveness"))
        .Permission(staff(Department.QUALITY))
        .Next(this.effective)
    )
    effective = (
        gateways.If(decided("effective", True)).Annotation(title=_("Effective?"))
        .Then(this.prevent)
        .Else(this.analyse)
    )

    # [P3.5, D7, CA-4] Team leader: documents and similar products; document changes go to P4.
    prevent = (
        Step(PreventionForm, this.prevented)
        .Annotation(title=_("D7: prevent recurrence"))
        .Assign(leader)
        .Next(this.close)
    )
    # [P3.5, D8, CA-3, CA-4, 8D-2] Quality manager: risks updated? QMS change needed? close (signed).
    close = (
        Step(ClosureForm, this.closed, meanings=[Meaning.APPROVED])
        .Annotation(title=_("D8: close the corrective action"))
        .Permission(manager(Department.QUALITY))
        .Next(this.render_report)
    )
    # The 8D report as PDF, by a Celery worker.
    render_report = CeleryJob(this.render).Annotation(title=_("Render the report PDF")).Next(this.end)
    end = flow.End().Annotation(title=_("Closed"))

    # --- who may see: department members, and the case's 8D team ---------------------------------

    def has_view_permission(self, user, obj=None):
        if can_view_processes(user):
            return True
        return user.is_authenticated and p3.records_of_teams(user).exists()

    # --- step actions: thin adapters over actions.py -------------------------------------------

    def raised_by_hand(self, ctx):
        attach_artifact(ctx.process, p3.raise_capa(process=ctx.process, actor=ctx.actor, data=ctx.data))

    def raised_from_complaint(self, activation, complaint_case, source, actor):
        activation.process.save()  # the record names its process
        case = p3.raise_from_complaint(complaint_case, source=source, actor=actor, process=activation.process)
        attach_artifact(activation.process, case)
        return case

    def raised_from_record(self, activation, source_record, source, actor, data):
        activation.process.save()  # the record names its process
        case = p3.raise_from_record(source_record, source=source, actor=actor, process=activation.process, data=data)
        attach_artifact(activation.process, case)
        return case

    def described(self, ctx):
        p3.describe_problem(capa_case_of(ctx.process), actor=ctx.actor, data=ctx.data)

    def contained(self, ctx):
        p3.record_containment(capa_case_of(ctx.process), actor=ctx.actor, data=ctx.data)

    def analysed(self, ctx):
        p3.record_root_cause(capa_case_of(ctx.process), actor=ctx.actor, data=ctx.data)

    def planned(self, ctx):
        p3.plan_actions(capa_case_of(ctx.process), actor=ctx.actor, data=ctx.data)

    def plan_decided(self, ctx):
        p3.approve_plan(case_reference(ctx.process), actor=ctx.actor, meaning=ctx.meaning, reason=ctx.reason,
                        sign=ctx.sign)  # the gateway after it reads the case (plan_in_force)

    def action_due(self, task):
        pk = (task.data or {}).get("action")
        process = task._state.fields_cache.get("process")  # the fan-out's process object, if the task holds it
        action = _planned(process).pop(pk, None) if process is not None and pk else None
        if action is None and pk:
            action = CapaAction.objects.filter(pk=pk).only("due_date").first()
        return action.due_date if action is not None else None

    def action_reported(self, ctx):
        action = CapaAction.objects.get(pk=ctx.task.data["action"])
        if ctx.data["outcome"] == "extension":
            p3.request_extension(action, actor=ctx.actor, new_due_date=ctx.data["new_due_date"],
                                 reason=ctx.data["reason"])
            remember(ctx.process, extension=True, current_action=action.pk)
        else:
            p3.complete_action(action, actor=ctx.actor, evidence=ctx.data["evidence"],
                               attachments=ctx.data.get("attachments"))
            remember(ctx.process, extension=False, current_action=action.pk)

    def extension_decided(self, ctx):
        action = CapaAction.objects.get(pk=ctx.task.data["action"])
        p3.decide_extension(p3.pending_extension(action), actor=ctx.actor, approved=ctx.data["approved"],
                            reason=ctx.data.get("reason", ""))
        remember(ctx.process, current_action=action.pk)

    def validated(self, ctx):
        p3.validate_implementation(capa_case_of(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def verification_moment(self, activation):
        return p3.verification_moment(case_of(activation))

    def open_verification(self, activation):
        with acting_as_system(scheduler_user()) as system:  # the flow's own step, after the closure's approval
            p3.open_verification(case_of(activation), actor=system)

    def verified(self, ctx):
        remember(ctx.process, effective=p3.verify_effectiveness(capa_case_of(ctx.process), actor=ctx.actor,
                                                                data=ctx.data, sign=ctx.sign))

    def prevented(self, ctx):
        p3.record_prevention(capa_case_of(ctx.process), actor=ctx.actor, data=ctx.data)

    def closed(self, ctx):
        p3.close_capa(capa_case_of(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def render(self, activation):
        case = case_of(activation)
        case.record.refresh_from_db()
        render_version(case.record.get_version())
