"""P4 — Control of documents and records (文件控制 / 质量记录控制程序), PROCEDURES.md P4,
src 6.2, ISO 9001 7.5. A change request → draft → review by the departments the
approval matrix names → signed approval → effective on its date → superseding the
previous revision → read-and-understood by the distribution. The periodic review
enters the same path when it finds a change is needed.

Business rules live in actions.py; this file only routes."""
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from accounts.models import Department, Role, User, department_label, department_permission
from core.access import can_view_processes
from core.models import Meaning
from forms.pdf import render_version
from procedures.documents import actions as p4
from procedures.documents.models import Acknowledgement, document_of, periodic_review_of, revision_of
from procedures.documents.forms import (
    AcknowledgeForm, ChangeRequestForm, DocumentApprovalForm, DocumentReviewForm, DraftForm, NewDocumentForm,
    PeriodicReviewForm,
)

from workflows import gateways
from workflows import quorum
from workflows.base import QmsFlow, decided, remember
from procedures.documents.subjects import subjects as subjects_of
from procedures.documents.models import DocumentChangeProcess
from workflows.jobs import CeleryJob
from workflows.steps import FanOut, Step, StartStep


def owner_staff(activation):
    """Tasks of the department that owns the document."""
    return department_permission(document_of(activation.process).owner_department, Role.STAFF)


def department_of_task(activation):
    return department_permission(activation.task.data["department"], Role.STAFF)


def approvers(activation):
    """The approval seats the approval matrix names: one approver holding the role (a
    queue), or each person of a group with its quorum (all, or K of N)."""
    items, needed, rejection_ends = p4.approver_seats(revision_of(activation.process))
    return quorum.seats(activation, quorum.Quorum(needed, rejection_ends), items)


def addressee(activation):
    return User.objects.get(pk=activation.task.data["user"])




def approval_granted(activation):
    """Did the approval round end approved? (A task from before quorum seats existed
    carries its decision on the process instead.)"""
    result = quorum.outcome(activation.process, "approve")
    if result is None:
        return decided("decision", Meaning.APPROVED)(activation)
    return result.approved


def reviewing_departments(activation):
    return [{"department": d} for d in p4.reviewing_departments(revision_of(activation.process))]


def acknowledgement_items(activation):
    return p4.open_acknowledgements(revision_of(activation.process))


class DocumentControlFlow(QmsFlow):
    process_class = DocumentChangeProcess
    process_title = _("Document control")
    process_description = _("PROCEDURES P4: change, approve, issue and review controlled documents.")
    process_summary_template = "{{ process.data.summary }}"
    step_summary_template = "procedures/step_summary.html"

    @classmethod
    def subjects(cls, processes):
        """What each process is about, for the task lists and notifications (subjects.py)."""
        return subjects_of(processes)

    # [src 6.2, ISO 7.5.2] Anyone may request a change to (or the withdrawal of) a controlled document.
    start = (
        StartStep(ChangeRequestForm, this.change_requested)
        .Annotation(title=_("Request a document change"))
        .Available(can_view_processes)
        .Next(this.edit)
    )
    # [ISO 7.5.2] Quality (document control) registers a new document; revision A/0 starts as a draft.
    start_new = (
        StartStep(NewDocumentForm, this.registered)
        .Annotation(title=_("Register a new controlled document"))
        .Permission(department_permission(Department.QUALITY, Role.STAFF))
        .Next(this.edit)
    )
    # [P3 step 5, CA-4] A corrective action (8D D7) raises a change request from code, linked both ways.
    start_raised = flow.StartHandle(this.raised).Annotation(title=_("Change raised by another record")).Next(this.edit)
    # [DOC-14] Celery beat opens the periodic review ahead of the due date.
    start_periodic_review = flow.StartHandle(this.periodic_review_opened).Next(this.periodic_review)
    # Owner department: still adequate, or a change is needed?
    periodic_review = (
        Step(PeriodicReviewForm, this.periodic_reviewed, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Periodic review"))
        .Permission(owner_staff)
        .Next(this.periodic_outcome)
    )
    periodic_outcome = (
        gateways.If(decided("periodic_outcome", "change")).Annotation(title=_("Change needed?"))
        .Then(this.edit)
        .Else(this.reviewed_unchanged)
    )

    # [ISO 7.5.2] Owner department: the controlled PDF, what changed, the effective date.
    edit = (
        Step(DraftForm, this.draft_submitted, meanings=[Meaning.AUTHORED])
        .Annotation(title=_("Prepare the revision"))
        .Permission(owner_staff)
        .Next(this.draft_outcome)
    )
    draft_outcome = (
        gateways.If(decided("draft", "abandoned")).Annotation(title=_("Abandoned?"))
        .Then(this.abandoned)
        .Else(this.reviews)
    )

    # [DOC-4] The departments the approval matrix names review in parallel.
    reviews = FanOut().Annotation(title=_("Department reviews")).Next(this.review, data_source=reviewing_departments)
    review = (
        Step(DocumentReviewForm, this.reviewed, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Review the revision"))
        .Permission(department_of_task)
        .Next(this.reviews_done)
    )
    reviews_done = gateways.Join().Annotation(title=_("All reviews in")).Next(this.review_outcome)
    review_outcome = (
        gateways.If(this.all_agree).Annotation(title=_("All agree?"))
        .Then(this.approvals)
        .Else(this.send_back)
    )
    send_back = flow.Function(this.back_to_author).Annotation(title=_("Back to the author")).Next(this.edit)

    # [DOC-3] The role the approval matrix names approves (signed); the author may not. A
    # rule naming a group asks each of them at once (quorum: all, or K of N; a rejection
    # or K out of reach ends it and cancels the signatures still open).
    approvals = FanOut().Annotation(title=_("Approvers")).Next(this.approve, data_source=approvers)
    approve = (
        quorum.QuorumStep(DocumentApprovalForm, this.decided, meanings=[Meaning.APPROVED, Meaning.REJECTED],
                          forbid=this.self_approval)
        .Annotation(title=_("Approve the revision"))
        .Next(this.approvals_done)
    )
    approvals_done = quorum.QuorumJoin().Annotation(title=_("Approvals in")).Next(this.approval_outcome)
    approval_outcome = (
        gateways.If(approval_granted).Annotation(title=_("Approved?"))
        .Then(this.wait_until_effective)
        .Else(this.edit)
    )

    # [DOC-5] In force on its effective date (a database timer fired by Celery beat);
    # the previous revision is superseded then, not before.
    wait_until_effective = gateways.Timer(this.effective_moment).Annotation(title=_("Effective date")).Next(this.in_force)
    in_force = flow.Function(this.take_effect).Annotation(title=_("Take effect")).Next(this.distribute)

    # [DOC-7] Everyone in the distribution reads and acknowledges it (signed).
    distribute = (
        FanOut()
        .Annotation(title=_("Distribute"))
        .Next(this.acknowledge, data_source=acknowledgement_items)
        .Next(this.render_record)
    )
    # The signed revision approval record as PDF, rendered by a Celery worker.
    render_record = CeleryJob(this.render).Annotation(title=_("Render record PDF")).Next(this.all_acknowledged)
    acknowledge = (
        Step(AcknowledgeForm, this.acknowledged, meanings=[Meaning.ACKNOWLEDGED], delegable=False,  # personal
             due=this.acknowledgement_due)
        .Annotation(title=_("Read and acknowledge"))
        .Assign(addressee)
        .Next(this.all_acknowledged)
    )
    all_acknowledged = gateways.Join().Annotation(title=_("All acknowledged")).Next(this.end)

    end = flow.End().Annotation(title=_("In force"))
    abandoned = flow.End().Annotation(title=_("Abandoned"))
    reviewed_unchanged = flow.End().Annotation(title=_("Reviewed, no change"))

    # --- step actions -----------------------------------------------------------------------------

    def change_requested(self, ctx):
        revision = p4.request_change(ctx.data["document"], actor=ctx.actor, reason=ctx.data["reason"],
                                     withdrawal=ctx.data.get("withdrawal", False), process=ctx.process)
        remember(ctx.process, revision=revision.pk, document=revision.document_id,
                 summary=f"{revision.document.number} {revision.label}")

    def raised(self, activation, document, actor, reason, source_record):
        """Started from code, e.g. `DocumentControlFlow.start_raised.run(document=..., actor=..., reason=...,
        source_record=capa_record)`; returns the draft revision."""
        activation.process.save()
        revision = p4.request_change(document, actor=actor, reason=reason, process=activation.process,
                                     raised_from=source_record)
        activation.process.data = {"revision": revision.pk, "document": document.pk,
                                   "summary": f"{document.number} {revision.label}"}
        return revision

    def registered(self, ctx):
        revision = p4.register_document(actor=ctx.actor, data=ctx.data, process=ctx.process)
        remember(ctx.process, revision=revision.pk, document=revision.document_id,
                 summary=f"{revision.document.number} {revision.label}")

    def periodic_review_opened(self, activation, document):
        review = p4.open_periodic_review(document)
        activation.process.data = {"document": document.pk, "periodic_review": review.pk,
                                   "summary": f"{document.number} periodic review"}

    def periodic_reviewed(self, ctx):
        revision = p4.conclude_periodic_review(periodic_review_of(ctx.process), actor=ctx.actor,
                                               outcome=ctx.data["outcome"], comment=ctx.data["comment"],
                                               sign=ctx.sign, process=ctx.process)
        remember(ctx.process, periodic_outcome=ctx.data["outcome"], **({"revision": revision.pk} if revision else {}))

    def draft_submitted(self, ctx):
        revision = revision_of(ctx.process)
        if ctx.data["outcome"] == "abandon":
            p4.abandon_draft(revision, actor=ctx.actor, reason=ctx.data["change_summary"])
            ctx.sign(revision.record.get_version(), role=department_label(revision.document.owner_department))
            remember(ctx.process, draft="abandoned")
            return
        p4.submit_draft(revision, actor=ctx.actor, data=ctx.data, sign=ctx.sign)
        remember(ctx.process, draft="submitted")

    def reviewed(self, ctx):
        p4.record_review(revision_of(ctx.process), department=ctx.task.data["department"], actor=ctx.actor,
                         accepted=ctx.data["accepted"], comment=ctx.data.get("comment", ""), sign=ctx.sign)

    def all_agree(self, activation):
        return p4.reviews_accepted(revision_of(activation.process))

    def back_to_author(self, activation):
        p4.back_to_draft(revision_of(activation.process))

    def decided(self, ctx):
        revision = revision_of(ctx.process)
        if "user" in ctx.task.data:  # one of a group (quorum rule)
            p4.sign_group_approval(revision, actor=ctx.actor, meaning=ctx.meaning, reason=ctx.reason,
                                   effective_date=ctx.data["effective_date"], sign=ctx.sign, outcome=ctx.quorum,
                                   department=ctx.task.data["department"])
        else:
            p4.decide(revision, actor=ctx.actor, meaning=ctx.meaning, reason=ctx.reason,
                      effective_date=ctx.data["effective_date"], sign=ctx.sign,
                      department=(ctx.task.data or {}).get("department"))
        if ctx.quorum is None:  # a seat's round is decided by its seats (approval_granted reads quorum.outcome)
            remember(ctx.process, decision=ctx.meaning)

    def self_approval(self, task, user):
        return p4.self_approval_reason(revision_of(task.process), user)

    def effective_moment(self, activation):
        return p4.effective_moment(revision_of(activation.process))

    def take_effect(self, activation):
        p4.take_effect(revision_of(activation.process))

    def render(self, activation):
        revision = revision_of(activation.process)
        revision.record.refresh_from_db()
        render_version(revision.record.get_version())

    def acknowledgement_due(self, task):
        """A read-and-acknowledge task is due when its acknowledgement is (DOC-7), not after
        the default step target."""
        return Acknowledgement.objects.filter(pk=task.data.get("acknowledgement")).values_list(
            "due_date", flat=True).first()

    def acknowledged(self, ctx):
        p4.acknowledge(Acknowledgement.objects.select_related("revision__record").get(
            pk=ctx.task.data["acknowledgement"]), actor=ctx.actor, sign=ctx.sign)
