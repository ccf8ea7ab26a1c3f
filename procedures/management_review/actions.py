"""管理评审输入 — the management-review input pack (ISO 9001 9.3.2, CA-7): the business actions.
Each runs in the caller's transaction (a flow step's), changes the working models, stores the
record's next version and writes its audit entry.

compile → the Quality manager signs → the General Manager signs → the review's decisions are
recorded as actions (owner, due date; a task in each owner's inbox) → each owner marks theirs done.
The figures are computed once, at compile time (figures.py), and frozen in the record version."""
import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, Role, role_label
from core import audit, records
from core.errors import InvalidInput, WrongState

from . import figures as pack_figures
from .models import ManagementReview, PackStatus, ReviewAction, ReviewActionStatus
from .records import MANAGEMENT_REVIEW, snapshot

QUALITY_MANAGER = role_label(Department.QUALITY, Role.MANAGER)
GENERAL_MANAGER = role_label(Department.MANAGEMENT, Role.MANAGER)
MAX_ACTIONS = 30


def previous_period(today=None, months=6):
    """The `months` full calendar months before `today`: (first day, last day)."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - datetime.timedelta(days=1)
    start = end.replace(day=1)
    for _month in range(months - 1):
        start = (start - datetime.timedelta(days=1)).replace(day=1)
    return start, end


def validate_period(period_start, period_end, today=None):
    """InvalidInput (400, nothing saved) for a period that ends before it starts or starts after today."""
    today = today or timezone.localdate()
    errors = {}
    if period_start is None:
        errors["period_start"] = [_("Required.")]
    if period_end is None:
        errors["period_end"] = [_("Required.")]
    if not errors and period_end < period_start:
        errors["period_end"] = [_("Must not be before the start.")]
    if not errors and period_start > today:
        errors["period_start"] = [_("The period may not start in the future.")]
    if errors:
        raise InvalidInput(_("The review period is not valid."), field_errors=errors)


def _version(review, actor, reason):
    return records.add_version(review.record, actor=actor, data=snapshot(review), reason=reason,
                               status=review.status)


def compile_review(*, period_start, period_end, actor, process, trigger, today=None):
    """CA-7: compile the input pack of a period — every section's figures read now and frozen in the
    record's first version — for the Quality manager to sign. The previous review's actions are the
    latest pack whose decisions were recorded."""
    from forms.pdf import queue_render  # noqa: PLC0415 — looked up per call: tests stub forms.pdf.queue_render

    today = today or timezone.localdate()
    validate_period(period_start, period_end, today)
    previous = pack_figures.previous_review()
    figures = pack_figures.compute(period_start, period_end, previous=previous, today=today)
    record = records.create_record(
        MANAGEMENT_REVIEW.code, actor=actor, status=PackStatus.AWAITING_QM,
        title=f"{MANAGEMENT_REVIEW.title} {period_start}–{period_end}", process=process,
        search_text=f"{period_start} {period_end}", reason="input pack compiled")
    review = ManagementReview.objects.create(
        record=record, period_start=period_start, period_end=period_end, trigger=trigger,
        figures=records.jsonable(figures), compiled_by=actor, compiled_at=timezone.now(), previous=previous)
    audit.log("management_review.compiled", review, actor=actor, record=record, process_id=process.pk,
              new={"period": [period_start, period_end], "trigger": trigger,
                   "previous": previous.record.number if previous else None})
    version = _version(review, actor, "input pack compiled")
    queue_render(version)  # the draft PDF the signers read
    return review


def _locked(review):
    return ManagementReview.objects.select_for_update(of=("self",)).select_related("record").get(pk=review.pk)


def sign_as_quality_manager(review, *, actor, data, sign):
    """The Quality manager signs the compiled pack (first signature)."""
    review = _locked(review)
    if review.status != PackStatus.AWAITING_QM:
        raise WrongState(_("The Quality manager has already signed this pack."), current_state=review.status)
    review.qm_comment, review.qm_signed_by, review.qm_signed_at = data.get("comment", ""), actor, timezone.now()
    review.status = PackStatus.AWAITING_GM
    review.save(update_fields=["qm_comment", "qm_signed_by", "qm_signed_at", "status"])
    version = _version(review, actor, "signed by the Quality manager")
    sign(version, role=QUALITY_MANAGER)
    audit.log("management_review.signed_by_quality_manager", review, actor=actor, record=review.record,
              process_id=review.record.process_id, new={"status": review.status}, reason=review.qm_comment)
    return review


def sign_as_general_manager(review, *, actor, data, sign):
    """The General Manager signs after the Quality manager (second signature)."""
    review = _locked(review)
    if review.status != PackStatus.AWAITING_GM:
        raise WrongState(_("The pack waits for the Quality manager's signature first."), current_state=review.status)
    review.gm_comment, review.gm_signed_by, review.gm_signed_at = data.get("comment", ""), actor, timezone.now()
    review.status = PackStatus.AWAITING_DECISIONS
    review.save(update_fields=["gm_comment", "gm_signed_by", "gm_signed_at", "status"])
    version = _version(review, actor, "signed by the General Manager")
    sign(version, role=GENERAL_MANAGER)
    audit.log("management_review.signed_by_general_manager", review, actor=actor, record=review.record,
              process_id=review.record.process_id, new={"status": review.status}, reason=review.gm_comment)
    return review


def record_decisions(review, *, actor, conclusions, actions, today=None):
    """9.3.3: the review's conclusions and its decisions as actions [{description, owner (a User),
    due_date}], each of which then waits in its owner's inbox. Due dates may not be in the past."""
    today = today or timezone.localdate()
    review = _locked(review)
    if review.status != PackStatus.AWAITING_DECISIONS:
        raise WrongState(_("Decisions are recorded once both signatures are in."), current_state=review.status)
    errors = {}
    if not (conclusions or "").strip():
        errors["conclusions"] = [_("Required.")]
    if len(actions) > MAX_ACTIONS:
        errors["actions"] = [_("At most %(count)d actions.") % {"count": MAX_ACTIONS}]
    for index, item in enumerate(actions):
        if not (item.get("description") or "").strip() or item.get("owner") is None or item.get("due_date") is None:
            errors[f"actions.{index}"] = [_("An action needs a description, an owner and a due date.")]
        elif item["due_date"] < today:
            errors[f"actions.{index}.due_date"] = [_("The due date may not be in the past.")]
    if errors:
        raise InvalidInput(_("The decisions are incomplete."), field_errors=errors)
    for position, item in enumerate(actions, start=1):
        ReviewAction.objects.create(review=review, position=position, description=item["description"].strip(),
                                    owner=item["owner"], due_date=item["due_date"])
    review.conclusions, review.decided_by, review.decided_at = conclusions.strip(), actor, timezone.now()
    review.status = PackStatus.ACTIONS_OPEN if actions else PackStatus.CLOSED
    review.save(update_fields=["conclusions", "decided_by", "decided_at", "status"])
    _version(review, actor, "decisions recorded")
    audit.log("management_review.decisions_recorded", review, actor=actor, record=review.record,
              process_id=review.record.process_id,
              new={"actions": len(actions), "owners": sorted({a["owner"].username for a in actions})})
    return review


def open_actions(review):
    return review.actions.filter(status=ReviewActionStatus.OPEN).order_by("position", "pk")


def mark_action_done(action, *, actor, note):
    """The owner (their task) marks a review action done, saying what was done. The pack completes
    when its last action is done."""
    action = ReviewAction.objects.select_for_update().select_related("review__record").get(pk=action.pk)
    if action.status == ReviewActionStatus.DONE:
        raise WrongState(_("This action is already done."), current_state=action.status)
    if not (note or "").strip():
        raise InvalidInput(_("Say what was done."), field_errors={"note": [_("Required.")]})
    action.status, action.note, action.done_at = ReviewActionStatus.DONE, note.strip(), timezone.now()
    action.save(update_fields=["status", "note", "done_at"])
    review = _locked(action.review)
    if not open_actions(review).exists():
        review.status = PackStatus.CLOSED
        review.save(update_fields=["status"])
    _version(review, actor, f"action {action.position} done")
    audit.log("management_review.action_done", action, actor=actor, record=review.record,
              process_id=review.record.process_id,
              old={"status": ReviewActionStatus.OPEN}, new={"status": action.status, "position": action.position,
                                                            "note": action.note})
    return action


def scheduled_review_exists(period_start, period_end):
    return ManagementReview.objects.filter(period_start=period_start, period_end=period_end,
                                           trigger="scheduled").exists()


def review_number(process):
    review = ManagementReview.objects.filter(record__process=process).select_related("record").first()
    return review.record.number if review else None
