"""P2 — Complaints and returns (客户投诉与退货), PROCEDURES.md P2, src 6.6 and ISO 9001 8.7.

Reads top to bottom like the procedure. Swimlanes (departments) in comments.
Business rules live in actions.py; this file only routes.

A case: Market registers → Quality inspects (the lot goes on hold) → the Quality
manager judges → not justified: Market negotiates, the case closes / justified:
goods to Materials → material receipt → disposition (split across codes) → the
further signatures, customer acceptance and re-inspection its codes need → the hold
is released → CAPA decision → closed. A complaint without returned goods is settled
with the customer instead of received and disposed.

An internal nonconformity (start_internal: incoming IQC, in-process IPQC, outgoing OQC
inspection) starts at the quality anomaly report itself — the lot goes on hold — and joins
at the judgement: confirmed → disposition of the held lot → the same signatures,
re-inspection, release and CAPA decision (an IQC rejection's CAPA names the supplier);
not confirmed → closed, the hold released.

The periodic analysis [src 6.6.10] starts here too: monthly from Celery beat
(start_scheduled_analysis) or on demand by the Market manager (start_analysis)."""
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from accounts.models import Department, Role, User, scheduler_user
from core.context import acting_as_system
from core.models import Meaning
from forms.pdf import render_version
from procedures.complaints import actions as p2
from procedures.complaints.forms import (
    AnalysisApprovalForm, AnalysisPeriodForm, CapaDecisionForm, ComplaintIntakeForm, CustomerAcceptanceForm,
    DispositionForm, HandoverForm, InspectionForm, InternalInspectionForm, JudgementForm, OutcomeForm, ReceiptForm, ReinspectionForm,
    SettlementForm, SignoffForm,
)
from procedures.complaints.models import Disposition

from workflows import gateways
from workflows import quorum
from workflows.base import QmsFlow, manager, staff
from procedures.complaints.subjects import subjects as subjects_of
from procedures.complaints.models import (
    ComplaintCase, ComplaintProcess, complaint_analysis_of, complaint_case_of, reported_case_of,
)
from workflows.models import artifact_ref, attach_artifact
from workflows.jobs import CeleryJob
from workflows.steps import FanOut, Step, StartStep






# --- predicates the gateways ask (activation → bool) -------------------------------------------


def case_of(activation):
    """The case as it is now (the actions change it through their own locked copy): read again,
    with its anomaly report and receipt, then shared by the gateways that follow on the same
    process until an action locks a case again (p2.LOCKS)."""
    process = activation.process
    cached = getattr(process, "_case_now", None)
    if cached is not None and cached[0] == p2.LOCKS.generation:
        return cached[1]
    ref = case_ref(process)
    case = p2.LOCKS.current(ref)  # the step's action locked, changed and saved this copy (the latest lock taken)
    if case is None:
        case = ComplaintCase.objects.select_related(
            "record", "anomaly_report__record", "material_receipt__record").get(pk=ref.pk)
    process._case_now = (p2.LOCKS.generation, case)
    return case




def case_ref(process):
    """The case for an action that first re-reads it under its lock (actions._lock): the
    artifact when it is loaded already, else a reference by key (no query)."""
    cached = getattr(process, "_artifact", None)
    if isinstance(cached, ComplaintCase):
        return cached
    if not process.artifact_object_id or \
            process.artifact_content_type_id != ContentType.objects.get_for_model(ComplaintCase).pk:
        return complaint_case_of(process)  # no case: as complaint_case_of() answers it
    return artifact_ref(process, ComplaintCase)  # the same one per process


def goods_returned(activation):
    return case_of(activation).goods_returned


def internal(activation):
    """Found by our own inspection (IQC / IPQC / OQC)?"""
    return case_of(activation).internal


def internal_confirmed(activation):
    """An internal nonconformity the Quality manager confirmed: its held lot is disposed."""
    case = case_of(activation)
    return case.internal and bool(case.justified)


def justified_case(activation):
    """A customer's case the Quality manager judged justified (the judgement is kept on the case only)."""
    return bool(case_of(activation).justified)


def needs_signoffs(activation):
    return bool(p2.current_disposition(case_of(activation)).required_signers)


# NC-8: every further signer must approve; the first rejection ends the round.
SIGNOFF_QUORUM = quorum.Quorum(first_rejection=True)


def signers(activation):
    """One signing task (a quorum seat in that signer's queue) per further signer the
    disposition's codes need (NC-8)."""
    return quorum.seats(activation, SIGNOFF_QUORUM, [
        quorum.queue_seat(p2.signer_permission(item["signer"]), p2.signer_label(item["signer"]), **item)
        for item in p2.signoffs_to_collect(case_of(activation))])


def signer_permission(activation):
    return p2.signer_permission(activation.task.data["signer"])


def next_is(status):
    """Does the case wait for `status` next (the action that led here decided it)?"""
    return lambda activation: case_of(activation).status == status


def analysis_signer(activation):
    """The Market manager who compiled the analysis on demand signs it; a scheduled one goes
    to the Market manager's inbox when there is exactly one, otherwise to their queue."""
    analysis = complaint_analysis_of(activation.process)
    if analysis is not None and analysis.trigger == "on_demand":
        return analysis.compiled_by
    managers = list(User.objects.filter(is_active=True, memberships__department=Department.MARKET,
                                        memberships__role=Role.MANAGER).distinct()[:2])
    return managers[0] if len(managers) == 1 else None



class ComplaintFlow(QmsFlow):
    process_class = ComplaintProcess
    process_title = _("Complaints and returns")
    process_description = _("PROCEDURES P2: customer complaints and returns, inspection and disposition.")
    process_summary_template = "{{ process.summary_text }}"
    step_summary_template = "complaints/step_summary.html"

    @classmethod
    def subjects(cls, processes):
        """What each process is about, for the task lists and notifications (subjects.py)."""
        return subjects_of(processes)

    # [src 7 / P2.1] Market: register the complaint, the return or both (质量信息反馈单).
    start = (
        StartStep(ComplaintIntakeForm, this.register)
        .Annotation(title=_("Register a complaint / return"))
        .Permission(staff(Department.MARKET))
        .Next(this.inspect)
    )

    # [src 6.6.5 / P2.2 sources IQC / IPQC / OQC, NC-1] Quality: a lot found nonconforming by our
    # own incoming, in-process or outgoing inspection — the inspector opens the quality anomaly
    # handling report at once (signed); the lot goes on hold. Then the same judgement onwards.
    start_internal = (
        StartStep(InternalInspectionForm, this.internal_report, meanings=[Meaning.AUTHORED])
        .Annotation(title=_("Report an internal nonconformity (IQC / IPQC / OQC)"))
        .Permission(staff(Department.QUALITY))
        .Next(this.judge)
    )

    # [src 6.6.5 / P2.2, NC-1] Quality (inspector's queue): inspect the returned goods and
    # fill the quality anomaly handling report (品质异常处理报告); the lot goes on hold.
    inspect = (
        Step(InspectionForm, this.inspection, meanings=[Meaning.AUTHORED])
        .Annotation(title=_("Inspect and report the anomaly"))
        .Permission(staff(Department.QUALITY))
        .Next(this.judge)
    )

    # [P2.3] Quality manager: is the complaint / return justified (成立)? Signed; the
    # inspector may not judge their own report.
    judge = (
        Step(JudgementForm, this.judgement, meanings=[Meaning.REVIEWED], forbid=this.own_report,
             forbid_rechecked=True)  # judge_case() asks it again of the case it locks
        .Annotation(title=_("Judge the complaint / return"))
        .Permission(manager(Department.QUALITY))
        .Next(this.justified)
    )
    # An internal nonconformity: confirmed → disposition of the held lot; not confirmed → close
    # (the hold is released). A customer's case: justified → goods back?; not → negotiate.
    justified = (
        gateways.Switch().Annotation(title=_("Justified?"))
        .Case(this.dispose, internal_confirmed)
        .Case(this.close, internal)
        .Case(this.goods_back, justified_case)
        .Default(this.negotiate)
    )

    # [src 6.6.6] Market: not justified — negotiate with the customer and record the outcome.
    negotiate = (
        Step(OutcomeForm, this.outcome, meanings=[Meaning.AUTHORED])
        .Annotation(title=_("Negotiate with the customer"))
        .Permission(staff(Department.MARKET))
        .Next(this.close)
    )

    goods_back = (
        gateways.If(goods_returned).Annotation(title=_("Goods returned?"))
        .Then(this.hand_over)
        .Else(this.settle)
    )
    # Market: a justified complaint without returned goods — settle with the customer.
    settle = (
        Step(SettlementForm, this.outcome, meanings=[Meaning.AUTHORED])
        .Annotation(title=_("Settle with the customer"))
        .Permission(staff(Department.MARKET))
        .Next(this.decide_capa)
    )

    # [src 6.6.7] Market: hand the returned goods and the anomaly report to Materials.
    hand_over = (
        Step(HandoverForm, this.handover)
        .Annotation(title=_("Hand the goods to Materials"))
        .Permission(staff(Department.MARKET))
        .Next(this.receive)
    )

    # [src 6.6.8 / P2.4] Materials: receive the goods on a material receipt (物料入库单),
    # printed in three copies (finance, market, finished-goods store).
    receive = (
        Step(ReceiptForm, this.receipt, meanings=[Meaning.AUTHORED])
        .Annotation(title=_("Receive the returned goods"))
        .Permission(staff(Department.MATERIALS))
        .Next(this.dispose)
    )

    # [ISO 8.7 / P2.5, NC-3, NC-7, SIG-17] Quality manager: dispose the lot — quantities
    # per code summing to the quantity received.
    dispose = (
        Step(DispositionForm, this.disposition, meanings=[Meaning.APPROVED])
        .Annotation(title=_("Dispose the nonconforming goods"))
        .Permission(manager(Department.QUALITY))
        .Next(this.signoffs_needed)
    )
    signoffs_needed = (
        gateways.If(needs_signoffs).Annotation(title=_("Further signatures needed?"))
        .Then(this.signoffs)
        .Else(this.after_signoffs)
    )
    # [NC-8] One signing task per further signer the codes need (configurable: the General
    # Manager for a concession, procurement for a return to supplier, …).
    signoffs = FanOut().Annotation(title=_("Further signatures")).Next(this.sign_disposition, data_source=signers)
    sign_disposition = (
        quorum.QuorumStep(SignoffForm, this.signoff, meanings=[Meaning.APPROVED, Meaning.REJECTED],
                          forbid=this.own_disposition)
        .Annotation(title=_("Sign the disposition"))
        .Permission(signer_permission)
        .Next(this.signoffs_done)
    )
    # A rejection cancels the signatures still open (audited, "quorum reached"): the
    # Quality manager disposes again.
    signoffs_done = (
        quorum.QuorumJoin().Annotation(title=_("Signatures in")).Next(this.after_signoffs)
    )
    after_signoffs = (
        gateways.Switch().Annotation(title=_("Disposition approved?"))
        .Case(this.dispose, next_is(p2.ComplaintStatus.DISPOSITION))
        .Case(this.customer_acceptance, next_is(p2.ComplaintStatus.CUSTOMER_ACCEPTANCE))
        .Case(this.reinspect, next_is(p2.ComplaintStatus.REINSPECTION))
        .Default(this.release)
    )

    # [NC-4] Market: a concession the contract lets the customer decide — record who at the
    # customer accepted it, when, and the reference; a refusal → dispose again.
    customer_acceptance = (
        Step(CustomerAcceptanceForm, this.acceptance, meanings=[Meaning.AUTHORED])
        .Annotation(title=_("Record the customer's acceptance"))
        .Permission(staff(Department.MARKET))
        .Next(this.after_acceptance)
    )
    after_acceptance = (
        gateways.Switch().Annotation(title=_("Accepted?"))
        .Case(this.dispose, next_is(p2.ComplaintStatus.DISPOSITION))
        .Case(this.reinspect, next_is(p2.ComplaintStatus.REINSPECTION))
        .Default(this.release)
    )

    # [NC-5] Quality: re-inspect reworked / repaired goods; failures → dispose again.
    reinspect = (
        Step(ReinspectionForm, this.reinspection, meanings=[Meaning.VERIFIED])
        .Annotation(title=_("Re-inspect the reworked goods"))
        .Permission(staff(Department.QUALITY))
        .Next(this.after_reinspection)
    )
    after_reinspection = (
        gateways.If(next_is(p2.ComplaintStatus.DISPOSITION)).Annotation(title=_("Failed?"))
        .Then(this.dispose)
        .Else(this.release)
    )

    # [NC-1] The disposition is complete: the hold on the lot is released (audited).
    release = flow.Function(this.release_hold).Annotation(title=_("Release the hold")).Next(this.decide_capa)

    # [src 6.6.9 / P2.6, CA-1] Quality manager: corrective / preventive action needed?
    decide_capa = (
        Step(CapaDecisionForm, this.capa, meanings=[Meaning.REVIEWED])
        .Annotation(title=_("Decide on corrective action"))
        .Permission(manager(Department.QUALITY))
        .Next(this.close)
    )

    close = flow.Function(this.closed).Annotation(title=_("Close the case")).Next(this.render_records)
    # The case's records as PDFs (feedback form, anomaly report, receipt), by a Celery worker.
    render_records = CeleryJob(this.render_case).Annotation(title=_("Render record PDFs")).Next(this.end)
    end = flow.End().Annotation(title=_("Closed"))

    # --- P2.7 periodic analysis [src 6.6.10, CA-6] ------------------------------------------------

    # Market manager, on demand: compile the analysis of a period now.
    start_analysis = (
        StartStep(AnalysisPeriodForm, this.analysis_requested)
        .Annotation(title=_("Compile a complaint and return analysis"))
        .Permission(manager(Department.MARKET))
        .Next(this.approve_analysis)
    )
    # Celery beat, monthly by default (config/settings/celery.py): the previous month.
    start_scheduled_analysis = flow.StartHandle(this.analysis_scheduled).Next(this.approve_analysis)
    # Market manager: sign the analysis as management-review input (CA-7).
    approve_analysis = (
        Step(AnalysisApprovalForm, this.analysis_approved, meanings=[Meaning.APPROVED])
        .Annotation(title=_("Sign the analysis for management review"))
        .Permission(manager(Department.MARKET))
        .Assign(analysis_signer)
        .Next(this.render_analysis)
    )
    render_analysis = CeleryJob(this.render_signed_analysis).Annotation(title=_("Render the analysis PDF")) \
        .Next(this.analysis_done)
    analysis_done = flow.End().Annotation(title=_("Analysis signed"))

    # --- step actions: thin adapters over actions.py ---------------------------------------

    def register(self, ctx):
        attach_artifact(ctx.process, p2.register_complaint(process=ctx.process, actor=ctx.actor, data=ctx.data))

    def internal_report(self, ctx):
        attach_artifact(ctx.process, p2.open_internal_report(process=ctx.process, actor=ctx.actor, data=ctx.data,
                                                             sign=ctx.sign))

    def inspection(self, ctx):
        p2.record_inspection(case_ref(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def judgement(self, ctx):
        p2.judge_case(case_ref(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def own_report(self, task, user):
        return p2.judgement_forbidden_reason(reported_case_of(task.process.coerced), user)

    def outcome(self, ctx):
        p2.record_outcome(case_ref(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def handover(self, ctx):
        p2.hand_over_goods(case_ref(ctx.process), actor=ctx.actor, data=ctx.data)

    def receipt(self, ctx):
        p2.receive_returned_goods(case_ref(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def disposition(self, ctx):
        p2.dispose_lot(case_ref(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def signoff(self, ctx):
        p2.sign_disposition(Disposition.objects.get(pk=ctx.task.data["disposition"]),
                            signer_role=ctx.task.data["signer"], actor=ctx.actor, data=ctx.data,
                            meaning=ctx.meaning, sign=ctx.sign, reason=ctx.reason)

    def own_disposition(self, task, user):
        return p2.signoff_forbidden_reason(Disposition.objects.get(pk=task.data["disposition"]), user)

    def acceptance(self, ctx):
        p2.record_customer_acceptance(case_ref(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def reinspection(self, ctx):
        p2.record_reinspection(case_ref(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def release_hold(self, activation):
        with acting_as_system(scheduler_user()) as system:  # the flow's own step, after the last sign-off
            p2.release_after_disposition(case_of(activation), actor=system)

    def capa(self, ctx):
        p2.decide_capa(case_ref(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def closed(self, activation):
        with acting_as_system(scheduler_user()) as system:
            p2.close_case(case_of(activation), actor=system)

    def render_case(self, activation):
        for record in p2.case_records(case_of(activation)):
            record.refresh_from_db()
            render_version(record.get_version())

    def analysis_requested(self, ctx):
        analysis = p2.compile_analysis(period_start=ctx.data["period_start"], period_end=ctx.data["period_end"],
                                       actor=ctx.actor, process=ctx.process, trigger="on_demand")
        attach_artifact(ctx.process, analysis)

    def analysis_scheduled(self, activation, period_start, period_end, actor):
        activation.process.save()  # the record names its process
        analysis = p2.compile_analysis(period_start=period_start, period_end=period_end, actor=actor,
                                       process=activation.process, trigger="scheduled")
        attach_artifact(activation.process, analysis)
        return activation.process

    def analysis_approved(self, ctx):
        p2.approve_analysis(complaint_analysis_of(ctx.process), actor=ctx.actor, data=ctx.data, sign=ctx.sign)

    def render_signed_analysis(self, activation):
        analysis = complaint_analysis_of(activation.process)
        analysis.record.refresh_from_db()
        render_version(analysis.record.get_version())
