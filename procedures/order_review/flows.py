"""P1 — Order / contract review (订单/合同评审), PROCEDURES.md P1, src 6.3.

Reads top to bottom like the procedure. Swimlanes (departments) in comments.
Business rules live in actions.py; this file only routes."""
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from accounts.models import Department, scheduler_user
from core.context import acting_as_system
from core.models import Meaning
from forms.pdf import render_version
from procedures.order_review import actions as p1
from procedures.order_review.forms import (
    AcknowledgeForm, ApprovalForm, ChangeRequestForm, IntakeForm, MarketReviewForm, MaterialsReviewForm, NegotiationForm, PlanForm,
    ReviewForm,
)

from workflows import gateways
from workflows.base import QmsFlow, decided, remember, staff
from procedures.order_review.subjects import subjects as subjects_of
from procedures.order_review.models import ChangeNotice, OrderReviewProcess, order_review_of
from workflows.models import attach_artifact
from workflows.jobs import CeleryJob
from workflows.steps import FanOut, Step, StartStep




# --- predicates the gateways ask (activation → bool) -------------------------------------------


def asks(department):
    """Is `department` asked to review in the current round? The round is read once per split: the split
    asks this of each department in turn, in one activation."""
    def predicate(activation):
        if "_qms_round" not in activation.__dict__:
            activation._qms_round = p1.current_round(order_review_of(activation.process))
        return p1.department_in_round(activation._qms_round, department)
    return predicate




def change_receivers(activation):
    """One receipt task per department concerned by the change approved in this process."""
    return p1.departments_to_acknowledge(order_review_of(activation.process), activation.process)


def plan_needed(activation):
    """An approved cancellation asks Materials for no production plan (P1.6): production and
    materials sign for the stop instead."""
    return not p1.cancelled_in(order_review_of(activation.process), activation.process)


def receiver_permission(activation):
    return staff(activation.task.data["department"])


def approver_permission(activation):
    return p1.approval_permission(order_review_of(activation.process))



class OrderReviewFlow(QmsFlow):
    process_class = OrderReviewProcess
    process_title = _("Order / contract review")
    process_description = _("PROCEDURES P1: review an order or contract before accepting it.")
    process_summary_template = "{{ process.order_review.record.number }} · {{ process.order_review.customer }}"
    step_summary_template = "order_review/step_summary.html"

    @classmethod
    def subjects(cls, processes):
        """What each process is about, for the task lists and notifications (subjects.py)."""
        return subjects_of(processes)

    # [src 6.3 / P1.1] Market: receive the order or contract and start the review.
    start = (
        StartStep(IntakeForm, this.receive)
        .Annotation(title=_("Receive order / contract"))
        .Permission(staff(Department.MARKET))
        .Next(this.reviews)
    )

    # [P1.6 / ISO 8.2.4] Market: a change to an approved order starts with a change notice.
    start_change = (
        StartStep(ChangeRequestForm, this.change_requested, meanings=[Meaning.AUTHORED],
                  sign_role="市场部 Market")
        .Annotation(title=_("Change an approved order / contract"))
        .Permission(staff(Department.MARKET))
        .Next(this.reviews)
    )

    # [src 4.2 / P1.2] Each reviewing department of the round reviews in parallel.
    reviews = (
        gateways.Split()
        .Annotation(title=_("Department reviews"))
        .Next(this.review_market, case=asks(Department.MARKET))
        .Next(this.review_quality, case=asks(Department.QUALITY))
        .Next(this.review_production, case=asks(Department.PRODUCTION))
        .Next(this.review_engineering, case=asks(Department.ENGINEERING))
        .Next(this.review_materials, case=asks(Department.MATERIALS))
    )
    # [src 6.3.8] Market's own review (业务): delivery date, unit price, packaging; its representative signs.
    review_market = (
        Step(MarketReviewForm, this.department_review, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Market review"))
        .Permission(staff(Department.MARKET))
        .Next(this.reviews_done)
    )
    # Quality: requirements, inspection standards, certificates.
    review_quality = (
        Step(ReviewForm, this.department_review, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Quality review"))
        .Permission(staff(Department.QUALITY))
        .Next(this.reviews_done)
    )
    # Production: capacity and lead time.
    review_production = (
        Step(ReviewForm, this.department_review, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Production review"))
        .Permission(staff(Department.PRODUCTION))
        .Next(this.reviews_done)
    )
    # Engineering: technical feasibility, design changes.
    review_engineering = (
        Step(ReviewForm, this.department_review, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Engineering review"))
        .Permission(staff(Department.ENGINEERING))
        .Next(this.reviews_done)
    )
    # Materials / procurement [src 6.3.7]: can the materials meet production needs?
    review_materials = (
        Step(MaterialsReviewForm, this.department_review, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Materials / procurement review"))
        .Permission(staff(Department.MATERIALS))
        .Next(this.reviews_done)
    )
    reviews_done = gateways.Join().Annotation(title=_("All reviews in")).Next(this.route_verdicts)

    # [ISO 8.2.3] Every verdict "can meet" → approval; otherwise Market negotiates.
    route_verdicts = (
        flow.Function(this.close_round).Annotation(title=_("Collect verdicts")).Next(this.all_can_meet)
    )
    all_can_meet = (
        gateways.If(decided("verdicts", "all_can_meet")).Annotation(title=_("All can meet?"))
        .Then(this.approve)
        .Else(this.negotiate)
    )

    # [P1.3] Market: negotiate with the customer; change notice → re-review, or decline.
    negotiate = (
        Step(NegotiationForm, this.negotiation, meanings=[Meaning.AUTHORED], sign_role="市场部 Market")
        .Annotation(title=_("Negotiate with the customer"))
        .Permission(staff(Department.MARKET))
        .Next(this.negotiation_outcome)
    )
    negotiation_outcome = (
        gateways.Switch()
        .Annotation(title=_("Negotiation outcome"))
        .Case(this.reviews, decided("negotiation", "change"))
        .Case(this.approve, decided("negotiation", "conditions_accepted"))
        .Default(this.declined)
    )

    # [src 6.3.8, src 4.3 / P1.4] Market manager approves; a contract needs the General Manager.
    approve = (
        Step(ApprovalForm, this.approval, meanings=[Meaning.APPROVED, Meaning.REJECTED], forbid=this.self_approval)
        .Annotation(title=_("Approve the review"))
        .Permission(approver_permission)
        .Next(this.approved)
    )
    approved = (
        gateways.If(decided("decision", Meaning.APPROVED)).Annotation(title=_("Approved?"))
        .Then(this.enter_ledger)
        .Else(this.rejected)
    )

    # [P1.5 / src 7] The accepted order enters the contract ledger (a change adds a revision).
    enter_ledger = flow.Function(this.ledger).Annotation(title=_("Enter in contract ledger")).Next(this.after_approval)
    after_approval = (
        FanOut()
        .Annotation(title=_("Record, plan and receipts"))
        .Next(this.render_record)
        .Next(this.write_plan, case=plan_needed)
        .Next(this.acknowledge_change, data_source=change_receivers)
    )
    # The signed order review record sheet (订单评审记录表) as PDF, rendered by a Celery worker.
    render_record = CeleryJob(this.render).Annotation(title=_("Render record PDF")).Next(this.finished)
    # [src 6.3.7] Materials: the production / work plan that follows from the review.
    write_plan = (
        Step(PlanForm, this.plan, meanings=[Meaning.AUTHORED], sign_role="资材部 Materials")
        .Annotation(title=_("Write production / work plan"))
        .Permission(staff(Department.MATERIALS))
        .Next(this.finished)
    )
    # [P1.6, REQ-6] Each department concerned by an approved change signs for it (签收).
    acknowledge_change = (
        Step(AcknowledgeForm, this.acknowledge, meanings=[Meaning.ACKNOWLEDGED])
        .Annotation(title=_("Sign for the approved change"))
        .Permission(receiver_permission)
        .Next(this.finished)
    )
    finished = gateways.Join().Annotation(title=_("Done")).Next(this.end)

    end = flow.End().Annotation(title=_("Accepted"))
    declined = flow.End().Annotation(title=_("Declined"))
    rejected = flow.End().Annotation(title=_("Rejected"))

    # --- step actions: thin adapters over actions.py ---------------------------------

    def receive(self, ctx):
        review = p1.receive_order(process=ctx.process, actor=ctx.actor, data=ctx.data)
        attach_artifact(ctx.process, review)

    def change_requested(self, ctx):
        review, _notice = p1.request_change(process=ctx.process, actor=ctx.actor, data=ctx.data, sign=ctx.sign)
        attach_artifact(ctx.process, review)

    def department_review(self, ctx):
        department = ctx.node.name.removeprefix("review_")
        p1.record_department_review(order_review_of(ctx.process), department=department, actor=ctx.actor,
                                    data=ctx.data, sign=ctx.sign)

    def close_round(self, activation):
        review = order_review_of(activation.process)
        with acting_as_system(scheduler_user()) as system:  # the Join's step: after the last review
            p1.after_reviews(review, actor=system)
        remember(activation.process, verdicts="all_can_meet" if p1.all_can_meet(review) else "negotiate")

    def negotiation(self, ctx):
        p1.record_negotiation(order_review_of(ctx.process), actor=ctx.actor, data=ctx.data, process=ctx.process,
                              sign=ctx.sign)
        remember(ctx.process, negotiation=ctx.data["outcome"])

    def approval(self, ctx):
        p1.decide_approval(order_review_of(ctx.process), actor=ctx.actor, data=ctx.data, meaning=ctx.meaning,
                           sign=ctx.sign)
        remember(ctx.process, decision=ctx.meaning)

    def ledger(self, activation):
        review = order_review_of(activation.process)
        p1.enter_in_ledger(review, actor=review.approved_by)

    def render(self, activation):
        review = order_review_of(activation.process)
        render_version(review.record.get_version())

    def acknowledge(self, ctx):
        notice = ChangeNotice.objects.select_related("record").get(pk=ctx.task.data["notice"])
        p1.acknowledge_change(notice, department=ctx.task.data["department"], actor=ctx.actor, data=ctx.data,
                              sign=ctx.sign)

    def plan(self, ctx):
        p1.write_production_plan(order_review_of(ctx.process), actor=ctx.actor, data=ctx.data, process=ctx.process,
                                 sign=ctx.sign)

    def self_approval(self, task, user):
        return p1.self_approval_reason(order_review_of(task.process), task.process, user)
