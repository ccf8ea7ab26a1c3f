"""管理评审输入 — the management-review input pack (ISO 9001 9.3.2 / 9.3.3, CA-7).

Reads top to bottom: the Quality manager compiles the pack of a period (on demand, or Celery beat
on its schedule) → the Quality manager signs → the General Manager signs →
the Quality manager records the review's conclusions and decisions as actions (owner, due date) →
the pack's PDF is rendered → each action waits in its owner's inbox until they mark it done. Business rules live in
actions.py; this file only routes."""
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from accounts.models import Department, Role, User
from core.models import Meaning
from evidence.access import is_auditor
from forms.pdf import render_version
from workflows import gateways
from workflows.base import QmsFlow, manager
from workflows.jobs import CeleryJob
from workflows.models import attach_artifact
from workflows.steps import FanOut, StartStep, Step

from . import access
from . import actions as mr
from .forms import ActionDoneForm, DecisionsForm, PeriodForm, SignForm
from .models import ManagementReviewProcess, ReviewAction, review_of


def _review(activation):
    review = review_of(activation.process)
    review.refresh_from_db()
    return review


def quality_manager_signer(activation):
    """The Quality manager who compiled the pack on demand signs it; a scheduled pack goes to the
    Quality manager's inbox when there is exactly one, otherwise to their queue."""
    review = _review(activation)
    if review.trigger == "on_demand":
        return review.compiled_by
    return _only(Department.QUALITY)


def general_manager(activation):
    return _only(Department.MANAGEMENT)


def _only(department):
    managers = list(User.objects.filter(is_active=True, memberships__department=department,
                                        memberships__role=Role.MANAGER).distinct()[:2])
    return managers[0] if len(managers) == 1 else None


def has_actions(activation):
    return mr.open_actions(_review(activation)).exists()


def decided_actions(activation):
    """One task per action, in its owner's inbox."""
    return [{"action": a.pk} for a in mr.open_actions(_review(activation))]


def action_owner(activation):
    return ReviewAction.objects.select_related("owner").get(pk=activation.task.data["action"]).owner


class ManagementReviewFlow(QmsFlow):
    process_class = ManagementReviewProcess
    process_title = _("Management review")
    process_description = _("ISO 9001 9.3: the management-review input pack, its signatures and decisions.")
    process_summary_template = "{{ process.summary_text }}"

    @classmethod
    def subjects(cls, processes):
        from workflows.models import artifacts_of  # noqa: PLC0415

        from .models import ManagementReview  # noqa: PLC0415

        return {pk: f"{r.record.number} · {r.period_start} – {r.period_end}"
                for pk, r in artifacts_of(processes, ManagementReview, select_related=("record",),
                                          only=("record__number", "period_start", "period_end")).items()}

    # [9.3.2, CA-7] Quality manager, on demand: compile the input pack of a period now.
    start = (
        StartStep(PeriodForm, this.compiled)
        .Annotation(title=_("Compile a management-review input pack"))
        .Permission(manager(Department.QUALITY))
        .Next(this.sign_quality)
    )
    # Celery beat, on its schedule (config/settings/celery.py): the previous months.
    start_scheduled = flow.StartHandle(this.compiled_by_schedule).Next(this.sign_quality)

    # Quality manager: sign the compiled pack.
    sign_quality = (
        Step(SignForm, this.quality_signed, meanings=[Meaning.APPROVED])
        .Annotation(title=_("Sign the input pack (Quality manager)"))
        .Permission(manager(Department.QUALITY))
        .Assign(quality_manager_signer)
        .Next(this.sign_management)
    )
    # General Manager: sign after the Quality manager.
    sign_management = (
        Step(SignForm, this.management_signed, meanings=[Meaning.APPROVED])
        .Annotation(title=_("Sign the input pack (General Manager)"))
        .Permission(manager(Department.MANAGEMENT))
        .Assign(general_manager)
        .Next(this.decide)
    )

    # [9.3.3] Quality manager: the review's conclusions and decided actions (owner, due date).
    decide = (
        Step(DecisionsForm, this.decided)
        .Annotation(title=_("Record the review's decisions"))
        .Permission(manager(Department.QUALITY))
        .Next(this.render_pack)
    )
    # The signed pack with its decisions as a controlled PDF, by a Celery worker.
    render_pack = CeleryJob(this.render).Annotation(title=_("Render the input pack PDF")).Next(this.any_actions)
    any_actions = (
        gateways.If(has_actions).Annotation(title=_("Actions decided?"))
        .Then(this.actions)
        .Else(this.end)
    )
    # Each owner: carry out the action and mark it done (a task in their inbox, due on its date).
    actions = FanOut().Annotation(title=_("Actions")).Next(this.do_action, data_source=decided_actions)
    do_action = (
        Step(ActionDoneForm, this.action_done, due=this.action_due)
        .Annotation(title=_("Carry out the review action"))
        .Assign(action_owner)
        .Next(this.actions_done)
    )
    actions_done = gateways.Join().Annotation(title=_("All actions done")).Next(this.end)
    end = flow.End().Annotation(title=_("Review complete"))

    # --- who may see: the Quality and General management, actions' owners (access.py); an auditor
    # reads the packs on their own pages, never the flows section (its task pages are for staff) -------

    def has_view_permission(self, user, obj=None):
        return not is_auditor(user) and access.can_read_reviews(user)

    # --- step actions: thin adapters over actions.py -------------------------------------------------

    def compiled(self, ctx):
        review = mr.compile_review(period_start=ctx.data["period_start"], period_end=ctx.data["period_end"],
                                   actor=ctx.actor, process=ctx.process, trigger="on_demand")
        attach_artifact(ctx.process, review)

    def compiled_by_schedule(self, activation, period_start, period_end, actor):
        activation.process.save()  # the record names its process
        review = mr.compile_review(period_start=period_start, period_end=period_end, actor=actor,
                                   process=activation.process, trigger="scheduled")
        attach_artifact(activation.process, review)
        return activation.process

    def quality_signed(self, ctx):
        mr.sign_as_quality_manager(review_of(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def management_signed(self, ctx):
        mr.sign_as_general_manager(review_of(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def render(self, activation):
        review = _review(activation)
        review.record.refresh_from_db()
        render_version(review.record.get_version())

    def decided(self, ctx):
        mr.record_decisions(review_of(ctx.process), actor=ctx.actor, conclusions=ctx.data["conclusions"],
                            actions=ctx.data.get("actions") or [])

    def action_due(self, task):
        pk = (task.data or {}).get("action")
        action = ReviewAction.objects.filter(pk=pk).only("due_date").first() if pk else None
        return action.due_date if action is not None else None

    def action_done(self, ctx):
        mr.mark_action_done(ReviewAction.objects.get(pk=ctx.task.data["action"]), actor=ctx.actor,
                            note=ctx.data["note"])


