"""P5 — Customer requirement management (客户需求管理), PROCEDURES.md P5
(src 客户需求管理程序 1.1–1.2; 制度 二–七; 计划模板 三–九; ISO 9001 8.2).

Reads top to bottom like the procedure. Swimlanes (departments) in comments.
Business rules live in actions.py; this file only routes."""
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from accounts.models import Department
from core.models import Meaning
from forms.pdf import render_version
from workflows import gateways
from workflows.base import QmsFlow, decided, remember, staff
from workflows.jobs import CeleryJob
from workflows.models import attach_artifact
from workflows.steps import FanOut, StartStep, Step
from workflows.views import StartStepView
from core.access import records_visible_to

from . import actions as p5
from .forms import (
    AnalysisForm,
    ApprovalForm,
    CollectForm,
    EvaluationForm,
    ReviewForm,
    TrackForm,
)
from .models import RequirementProcess, RequirementStatus, requirement_of
from .subjects import subjects as subjects_of
from . import changes as cr5
from .change_forms import ChangeApprovalForm, ChangeRequestForm
from .models import CustomerRequirement, RequirementChangeProcess, change_of
from .subjects import change_subjects

# --- who and where: the gateways' and routing's questions (activation → value) -----------------------------


def is_duplicate(activation):
    return requirement_of(activation.process).status == RequirementStatus.DUPLICATE


def reviewers(activation):
    return p5.departments_to_review(requirement_of(activation.process))


def reviewer_permission(activation):
    return staff(activation.task.data["department"])


def approver_permission(activation):
    return p5.approval_permission(requirement_of(activation.process))


def owner(activation):
    return requirement_of(activation.process).owner


class RequirementFlow(QmsFlow):
    process_class = RequirementProcess
    process_title = _("Customer requirement")
    process_description = _("PROCEDURES P5: collect, analyse, review, approve, track and answer customer "
                            "requirements.")
    process_summary_template = "{{ process.requirement.record.number }} · {{ process.requirement.customer_name }}"
    step_summary_template = "requirements/step_summary.html"

    @classmethod
    def subjects(cls, processes):
        """What each process is about, for the task lists and notifications (subjects.py)."""
        return subjects_of(processes)

    # [P5.1, 制度 二] Market (anyone in it): register the requirement; a duplicate is linked and closed.
    start = (
        StartStep(CollectForm, this.collect)
        .Annotation(title=_("Register a customer requirement"))
        .Permission(staff(Department.MARKET))
        .Next(this.duplicate)
    )
    # Another procedure's record raises a requirement (e.g. a low indicator of a satisfaction survey):
    # registered by that procedure's actor, then analysed like any other (entry.requirement_from_record).
    start_from_record = flow.StartHandle(this.raised_from_record).Next(this.duplicate)
    duplicate = (
        gateways.If(is_duplicate).Annotation(title=_("Duplicate?"))
        .Then(this.merged)
        .Else(this.analyse)
    )

    # [P5.2, 制度 三/五] Market: importance × urgency → priority class, KANO, feasibility, links.
    analyse = (
        Step(AnalysisForm, this.analysed, meanings=[Meaning.AUTHORED], sign_role="市场部 Market")
        .Annotation(title=_("Analyse the requirement"))
        .Permission(staff(Department.MARKET))
        .Next(this.reviews)
    )

    # [P5.3, 模板 五] The departments named at the analysis review in parallel, each signing.
    reviews = FanOut().Annotation(title=_("Department reviews")).Next(this.review, data_source=reviewers)
    review = (
        Step(ReviewForm, this.reviewed, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Review the customer requirement"))
        .Permission(reviewer_permission)
        .Next(this.reviews_done)
    )
    reviews_done = gateways.Join().Annotation(title=_("All reviews in")).Next(this.close_reviews)
    close_reviews = flow.Function(this.all_reviewed).Annotation(title=_("Collect verdicts")).Next(this.approve)

    # [P5.3] Market manager approves; the General Manager for a customer-specific requirement
    # that changes a product or process. Approve = commit and track; reject = tell the customer why.
    approve = (
        Step(ApprovalForm, this.approval, meanings=[Meaning.APPROVED, Meaning.REJECTED], forbid=this.self_approval)
        .Annotation(title=_("Approve the customer requirement"))
        .Permission(approver_permission)
        .Next(this.approved)
    )
    approved = (
        gateways.If(decided("decision", Meaning.APPROVED)).Annotation(title=_("Approved?"))
        .Then(this.track)
        .Else(this.rejected)
    )

    # [P5.4, 制度 四] The owner named at the approval reports progress until it is implemented,
    # due on the requirement's due date.
    track = (
        Step(TrackForm, this.tracked, due=this.due)
        .Annotation(title=_("Implement and report progress"))
        .Assign(owner)
        .Next(this.progress)
    )
    progress = (
        gateways.Switch().Annotation(title=_("Progress"))
        .Case(this.evaluate, decided("progress", "implemented"))
        .Case(this.withdrawn, decided("progress", "withdrawn"))
        .Default(this.track)
    )

    # [P5.5, 制度 五–六] Market: was it met (evidence), and the answer given to the customer.
    evaluate = (
        Step(EvaluationForm, this.evaluated, meanings=[Meaning.VERIFIED], sign_role="市场部 Market")
        .Annotation(title=_("Evaluate and answer the customer"))
        .Permission(staff(Department.MARKET))
        .Next(this.render_record)
    )
    # The signed customer requirement review form (顾客需求评审表) as PDF, by a Celery worker.
    render_record = CeleryJob(this.render).Annotation(title=_("Render record PDF")).Next(this.end)

    end = flow.End().Annotation(title=_("Completed"))
    merged = flow.End().Annotation(title=_("Linked as a duplicate"))
    rejected = flow.End().Annotation(title=_("Rejected"))
    withdrawn = flow.End().Annotation(title=_("Withdrawn"))

    # --- step actions: thin adapters over actions.py -------------------------------------------

    def collect(self, ctx):
        req = p5.register_requirement(process=ctx.process, actor=ctx.actor, data=ctx.data)
        attach_artifact(ctx.process, req)

    def raised_from_record(self, activation, actor, data):
        activation.process.save()  # the record names its process
        req = p5.register_requirement(process=activation.process, actor=actor, data=data)
        attach_artifact(activation.process, req)
        return req

    def analysed(self, ctx):
        p5.analyse_requirement(requirement_of(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def reviewed(self, ctx):
        p5.record_review(requirement_of(ctx.process), department=ctx.task.data["department"], actor=ctx.actor,
                         data=ctx.data, sign=ctx.sign)

    def all_reviewed(self, activation):
        p5.after_reviews(requirement_of(activation.process))

    def approval(self, ctx):
        p5.decide_approval(requirement_of(ctx.process), actor=ctx.actor, data=ctx.data, meaning=ctx.meaning,
                           sign=ctx.sign)
        remember(ctx.process, decision=ctx.meaning)

    def tracked(self, ctx):
        outcome = p5.record_progress(requirement_of(ctx.process), actor=ctx.actor, data=ctx.data)
        remember(ctx.process, progress=outcome)

    def evaluated(self, ctx):
        p5.evaluate_and_answer(requirement_of(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def render(self, activation):
        render_version(requirement_of(activation.process).record.get_version())

    def due(self, task):
        req = requirement_of(task.process)
        return req.due_date if req is not None else None

    def self_approval(self, task, user):
        return p5.self_approval_reason(requirement_of(task.process), user)


# --- CR-5 change of an approved requirement (需求变更) ------------------------------------------------------


class StartFromRequirementView(StartStepView):
    """The change's start form opened from a requirement (?requirement=CR-2026-0001) shows the
    requirement's current values to change."""

    def get(self, request, *args, **kwargs):
        node = self.node(request)
        form = node.make_form(activation=request.activation, user=request.user)
        number = request.GET.get("requirement", "")[:40]
        req = CustomerRequirement.objects.select_related("record").filter(record__number=number).first()
        if req is not None and records_visible_to(request.user).filter(pk=req.record_id).exists():
            form.prefill(req)
        return self.render(request, node, form, self.signature_form(request, node))


class StartFromRequirement(StartStep):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._start_view = StartFromRequirementView.as_view()


def change_reviewers(activation):
    return cr5.departments_to_review(change_of(activation.process))


def change_approver_permission(activation):
    return cr5.approval_permission(change_of(activation.process))


class RequirementChangeFlow(QmsFlow):
    process_class = RequirementChangeProcess
    process_title = _("Customer requirement change")
    process_description = _("PROCEDURES P5 / CR-5: a change to an approved customer requirement, reviewed and "
                            "approved again.")
    process_summary_template = "{{ process.change.requirement.record.number }} Δ{{ process.change.number }}"
    step_summary_template = "requirements/change_summary.html"

    @classmethod
    def subjects(cls, processes):
        return change_subjects(processes)

    # [P5.6, 制度 七; CR-5] Market: ask to change an approved requirement (new values, reason), signed.
    start = (
        StartFromRequirement(ChangeRequestForm, this.requested, meanings=[Meaning.AUTHORED],
                             sign_role="市场部 Market")
        .Annotation(title=_("Request a requirement change"))
        .Permission(staff(Department.MARKET))
        .Next(this.reviews)
    )

    # [CR-5, 模板 五] The departments concerned review the change again, in parallel, each signing.
    reviews = FanOut().Annotation(title=_("Department reviews")).Next(this.review, data_source=change_reviewers)
    review = (
        Step(ReviewForm, this.reviewed, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Review the requirement change"))
        .Permission(reviewer_permission)
        .Next(this.reviews_done)
    )
    reviews_done = gateways.Join().Annotation(title=_("All reviews in")).Next(this.close_reviews)
    close_reviews = flow.Function(this.all_reviewed).Annotation(title=_("Collect verdicts")).Next(this.approve)

    # [CR-5, P5.3] The approver of the requirement (Market manager; General Manager for a
    # customer-specific requirement that changes a product or process) approves or rejects, signed.
    approve = (
        Step(ChangeApprovalForm, this.approval, meanings=[Meaning.APPROVED, Meaning.REJECTED],
             forbid=this.self_approval)
        .Annotation(title=_("Approve the requirement change"))
        .Permission(change_approver_permission)
        .Next(this.approved)
    )
    # Approved: the requirement takes the new values (its owner's tracking task follows the new
    # due date); rejected: nothing changes, the change is kept.
    approved = (
        gateways.If(decided("decision", Meaning.APPROVED)).Annotation(title=_("Approved?"))
        .Then(this.end)
        .Else(this.rejected)
    )

    end = flow.End().Annotation(title=_("Change approved"))
    rejected = flow.End().Annotation(title=_("Change rejected"))

    # --- step actions: thin adapters over changes.py ---------------------------------------------

    def requested(self, ctx):
        change = cr5.request_change(process=ctx.process, actor=ctx.actor, data=ctx.data, sign=ctx.sign)
        attach_artifact(ctx.process, change)

    def reviewed(self, ctx):
        cr5.record_change_review(change_of(ctx.process), department=ctx.task.data["department"], actor=ctx.actor,
                                 data=ctx.data, sign=ctx.sign)

    def all_reviewed(self, activation):
        cr5.after_change_reviews(change_of(activation.process))

    def approval(self, ctx):
        cr5.decide_change(change_of(ctx.process), actor=ctx.actor, data=ctx.data, meaning=ctx.meaning, sign=ctx.sign)
        remember(ctx.process, decision=ctx.meaning)

    def self_approval(self, task, user):
        change = change_of(task.process)
        return cr5.self_approval_reason(change, user) if change is not None else None
