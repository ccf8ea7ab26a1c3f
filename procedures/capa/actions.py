"""P3 — corrective and preventive action (纠正预防措施控制程序, 8D): the business actions.

Every rule of P3 lives here once (CA-1…CA-5, 8D-1…8D-3). The flow
(flows.py) calls these functions from its steps; each runs inside the step's
transaction, changes the working models (models.py), stores a new version
of the CAPA report record (纠正预防措施报告, CA-2026-0001) and writes its audit entry.

Rounds: a "not effective" effectiveness check sends the case back to D4 with
round + 1; the earlier rounds' 5-Why chain, fishbone, actions and checks stay as
history (rows carry their round)."""
import datetime

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Department, Role, department_permission, quality_managers, role_label, scheduler_user
from inbox.delegation import holds_permission
from workflows.models import LockedCopies
from core import audit, records
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import Meaning
from inbox.models import NotificationKind
from inbox.notify import notify
from inbox.signals import process_link
from procedures.documents.entry import request_change

from .signals import corrective_action_closed

from . import records as record_types
from .models import (
    ActionAttachment, ActionStatus, CapaAction, CapaCase, CapaSection, CapaSource, CapaStatus, DueDateChange,
    EffectivenessCheck, ExtensionStatus, FishboneCause, PreventionItem, WhyStep, is_overdue,
)
from .records import (
    D_STEPS, FIVE_W2H, SNAPSHOT_RELATED, _load, _user, load_children, snapshot, verification_days,
)


def _version(case, actor, reason, loaded=False):
    """A new version of the report from the working tables. `loaded`: `case` is the row
    _lock(case, for_snapshot=True) read in this transaction, every change to it saved and its
    child rows untouched since: its children are read onto it instead of reading it again."""
    case = load_children(case) if loaded else _load(case)
    return records.add_version(case.record, actor=actor, data=snapshot(case), reason=reason,
                               status=case.status)


LOCKS = LockedCopies()  # every lock of a case or an action: the case copy kept for locked_open_actions()


def _lock(case, for_snapshot=False):
    related = SNAPSHOT_RELATED if for_snapshot else ("record",)
    return LOCKS.keep(case, CapaCase.objects.select_for_update(of=("self",)).select_related(*related).get(
        pk=case.pk))


def locked_open_actions(case):
    """The open actions of the case's current round (by position, with their owners and the case with its
    record), as the step's action read them under its lock onto its copy for the snapshot (`_version(…,
    loaded=True)`: every change saved, the child rows untouched since) — when `case` is the reference that
    action was given and no case or action was locked since; else None (read them)."""
    copy = LOCKS.current(case)
    if copy is None:
        return None
    actions = getattr(copy, "_prefetched_objects_cache", {}).get("actions")
    if actions is None:
        return None
    return sorted((a for a in actions if a.status == ActionStatus.OPEN and a.round == copy.round),
                  key=lambda a: (a.position, a.pk))


def _expect(case, *statuses):
    if case.status not in statuses:
        raise WrongState(_("The corrective action is at %(state)s; this step is not possible now.")
                         % {"state": case.get_status_display()}, current_state=case.status)


def _section(case, code, actor, summary=""):
    CapaSection.objects.create(case=case, code=code, round=case.round, owner=actor, summary=summary[:2000])


def _set_status(case, status):
    case.status = status
    case.save(update_fields=["status"])


def _log(event, case, actor, reason="", **new):
    audit.log(f"capa.{event}", case, actor=actor, record=case.record, process_id=case.record.process_id,
              new=new or None, reason=reason)


# --- CA-1: raising a corrective action ---------------------------------------------------------------------------


def raise_capa(*, process, actor, data, complaint_case=None):
    """CA-1: open a corrective action from a source (complaint, return, internal NC,
    audit finding, management review, or by hand by Quality). The source is always
    recorded; a complaint / return case is linked both ways."""
    source = data["source"]
    if source not in CapaSource.values:
        raise InvalidInput(_("Unknown source."), field_errors={"source": [_("Unknown source.")]})
    if source != CapaSource.MANUAL and not (data.get("source_reference") or "").strip() and complaint_case is None:
        raise InvalidInput(_("Name the source (e.g. the audit finding or NC number)."),
                           field_errors={"source_reference": [_("Required for this source.")]})
    record = records.create_record(
        record_types.CAPA_REPORT.code, actor=actor, status=CapaStatus.DESCRIBE,
        title=f"{record_types.CAPA_REPORT.title} · {data['title']}"[:200],
        customer_name=data.get("customer_name", ""), product_text=data.get("product_text", ""),
        search_text=" ".join(filter(None, [data["title"], data.get("source_reference", "")])),
        process=process, reason="corrective action raised",
    )
    case = CapaCase.objects.create(
        record=record, source=source, source_reference=(data.get("source_reference") or "").strip(),
        complaint_case=complaint_case, title=data["title"], customer_name=data.get("customer_name", ""),
        product_text=data.get("product_text", ""), quantity_defective=data.get("quantity_defective"),
        severity=data.get("severity") or "B", raised_by=actor,
    )
    _log("raised", case, actor, source=source, reference=case.source_reference,
         complaint=complaint_case.record.number if complaint_case else None)
    _version(case, actor, "corrective action raised")
    return case


def raise_from_complaint(complaint_case, *, source, actor, process):
    """CA-1 from P2.6: a justified complaint / return whose CAPA decision is "yes"; `source` is
    CapaSource.COMPLAINT or RETURN."""
    report = getattr(complaint_case, "anomaly_report", None)
    data = {
        "source": source,
        "source_reference": complaint_case.record.number,
        "title": f"{complaint_case.product.code} {complaint_case.get_defect_category_display()} · "
                 f"{complaint_case.description[:120]}",
        "customer_name": str(complaint_case.customer) if complaint_case.customer_id else complaint_case.supplier,
        "product_text": " ".join(filter(None, [complaint_case.product.code, complaint_case.product.name_zh,
                                               complaint_case.product.name_en, complaint_case.lot_number])),
        "quantity_defective": (report.quantity_defective if report is not None and report.quantity_defective
                               else complaint_case.quantity_affected),
        "severity": report.defect_grade if report is not None and report.defect_grade in "ABC" else "B",
    }
    return raise_capa(process=process, actor=actor, data=data, complaint_case=complaint_case)


def raise_from_record(source_record, *, source, actor, process, data):
    """CA-1 from another procedure's record (e.g. a P5 customer requirement): Quality raises it;
    the record's number is the source reference."""
    if not holds_permission(actor, department_permission(Department.QUALITY, Role.STAFF)):
        raise NotPermitted(_("Only Quality raises a corrective action."))
    if not (data.get("title") or "").strip():
        raise InvalidInput(_("Describe the problem."), field_errors={"problem": [_("Required.")]})
    return raise_capa(process=process, actor=actor,
                      data={**data, "title": data["title"].strip(), "source": source,
                            "source_reference": source_record.number})


# --- D0–D2: describe, team, 5W2H ------------------------------------------------------------------------------------


def describe_problem(case, *, actor, data):
    """D0 emergency response, D1 team (champion, leader, members: real users, who then
    see the case), D2 problem described (5W2H, is / is-not)."""
    case = _lock(case)
    _expect(case, CapaStatus.DESCRIBE)
    case.emergency_response = data["emergency_response"]
    case.champion, case.leader = data["champion"], data["leader"]
    case.description = {k: (data.get(k) or "").strip() for k in FIVE_W2H}
    case.is_is_not = {"is": data["is_text"].strip(), "is_not": data["is_not_text"].strip()}
    if data.get("severity"):
        case.severity = data["severity"]
    case.status = CapaStatus.CONTAINMENT
    case.save()
    case.members.set(data.get("members") or [])
    _section(case, "D0", actor, case.emergency_response)
    _section(case, "D1", actor, ", ".join(_user(u) for u in case.team))
    _section(case, "D2", actor, case.description.get("what", ""))
    _log("described", case, actor, leader=case.leader.username, champion=case.champion.username,
         members=sorted(u.username for u in case.members.all()))
    return _version(case, actor, "D0–D2 described")


def records_of_teams(user):
    """Record ids of the CAPA reports whose team `user` is on (core.access asks)."""
    return CapaCase.objects.filter(Q(champion=user) | Q(leader=user) | Q(members=user) | Q(actions__owner=user)) \
        .values_list("record_id", flat=True).distinct()


def record_containment(case, *, actor, data):
    """D3: containment actions and their verification."""
    case = _lock(case)
    _expect(case, CapaStatus.CONTAINMENT)
    case.containment, case.containment_verification = data["containment"], data["verification"]
    case.status = CapaStatus.ROOT_CAUSE
    case.save(update_fields=["containment", "containment_verification", "status"])
    _section(case, "D3", actor, case.containment)
    _log("contained", case, actor)
    return _version(case, actor, "D3 containment")


# --- D4: root cause (5-Why, 6M fishbone, escape point) -------------------------------------------------------------


def record_root_cause(case, *, actor, data):
    """D4 / 8D-3: an ordered 5-Why chain of any depth (each why answered), causes on the
    6M fishbone, the root cause and the escape point; whether similar nonconformities
    exist or could occur elsewhere (CA-2)."""
    case = _lock(case)
    _expect(case, CapaStatus.ROOT_CAUSE)
    whys = [w for w in data.get("whys") or [] if (w.get("question") or w.get("answer"))]
    errors = {}
    if not whys:
        errors["whys"] = [_("Give at least one why and its answer.")]
    for index, why in enumerate(whys):
        if not (why.get("answer") or "").strip():
            errors[f"whys[{index}].answer"] = [_("Every why needs its answer.")]
    if not (data.get("root_cause") or "").strip():
        errors["root_cause"] = [_("The root cause may not be empty.")]
    if not (data.get("escape_point") or "").strip():
        errors["escape_point"] = [_("Say where the problem escaped detection.")]
    if errors:
        raise InvalidInput(_("The root cause analysis is incomplete."), field_errors=errors)
    case.whys.filter(round=case.round).delete()
    case.causes.filter(round=case.round).delete()
    for position, why in enumerate(whys, start=1):
        WhyStep.objects.create(case=case, round=case.round, position=position,
                               question=(why.get("question") or "").strip() or _("Why?"),
                               answer=why["answer"].strip())
    for cause in data.get("causes") or []:
        FishboneCause.objects.create(case=case, round=case.round, category=cause["category"],
                                     cause=cause["cause"].strip(), is_root=bool(cause.get("is_root")))
    case.root_cause, case.escape_point = data["root_cause"].strip(), data["escape_point"].strip()
    case.similar_elsewhere = (data.get("similar_elsewhere") or "").strip()
    case.status = CapaStatus.PLAN
    case.save(update_fields=["root_cause", "escape_point", "similar_elsewhere", "status"])
    _section(case, "D4", actor, case.root_cause)
    _log("root_cause_found", case, actor, round=case.round, whys=len(whys), root_cause=case.root_cause)
    return _version(case, actor, f"D4 root cause (round {case.round})")


# --- D5: permanent actions, approved by the Quality manager --------------------------------------------------------


def check_actions(actions):
    """CA-5: every action has a description, an owner and a due date not in the past.
    Returns field errors keyed like the form (actions[0].owner)."""
    errors = {}
    today = timezone.localdate()
    if not actions:
        errors["actions"] = [_("Plan at least one action.")]
    for index, item in enumerate(actions):
        if not item.get("owner"):
            errors[f"actions[{index}].owner"] = [_("Every action needs an owner.")]
        if not item.get("due_date"):
            errors[f"actions[{index}].due_date"] = [_("Every action needs a due date.")]
        elif item["due_date"] < today:
            errors[f"actions[{index}].due_date"] = [_("The due date may not be in the past.")]
        if not (item.get("description") or "").strip():
            errors[f"actions[{index}].description"] = [_("Describe the action.")]
    return errors


def plan_actions(case, *, actor, data):
    """D5: the permanent actions chosen, each with an owner and a due date (CA-5). A plan
    sent back by the Quality manager is replaced as a whole."""
    case = _lock(case)
    _expect(case, CapaStatus.PLAN)
    errors = check_actions(data.get("actions") or [])
    if errors:
        raise InvalidInput(_("Every action needs an owner and a due date that is not in the past."),
                           field_errors=errors)
    case.actions.filter(round=case.round).delete()
    for position, item in enumerate(data["actions"], start=1):
        CapaAction.objects.create(case=case, round=case.round, position=position,
                                  description=item["description"].strip(), owner=item["owner"],
                                  due_date=item["due_date"], original_due_date=item["due_date"])
    case.status = CapaStatus.PLAN_APPROVAL
    case.save(update_fields=["status"])
    _section(case, "D5", actor, "; ".join(i["description"] for i in data["actions"]))
    _log("actions_planned", case, actor, round=case.round,
         actions=[{"owner": i["owner"].username, "due": i["due_date"]} for i in data["actions"]])
    return _version(case, actor, f"D5 actions planned (round {case.round})")


def approve_plan(case, *, actor, meaning, reason, sign):
    """The Quality manager approves the action plan (signed) or sends it back with a reason."""
    case = _lock(case, for_snapshot=True)
    _expect(case, CapaStatus.PLAN_APPROVAL)
    approved = meaning == Meaning.APPROVED
    if not approved and not (reason or "").strip():
        raise InvalidInput(_("Give the reason for sending the plan back."),
                           field_errors={"reason": [_("Required when rejecting.")]})
    _set_status(case, CapaStatus.IMPLEMENTATION if approved else CapaStatus.PLAN)
    _log("plan_approved" if approved else "plan_rejected", case, actor, reason=reason, round=case.round)
    version = _version(case, actor, "action plan approved" if approved else "action plan sent back", loaded=True)
    sign(version, role=role_label(Department.QUALITY, Role.MANAGER))
    return approved


def open_actions(case, round=None):
    actions = case.actions.filter(status=ActionStatus.OPEN)
    return actions.filter(round=round) if round is not None else actions


# --- actions: carried out by their owners; due dates move only by approved extension -----------------------------


def _lock_action(action):
    LOCKS.taken()
    return CapaAction.objects.select_for_update(of=("self",)).select_related("case__record", "owner").get(
        pk=action.pk)


def complete_action(action, *, actor, evidence, attachments=()):
    """The owner carries out the action and evidences it (text + files)."""
    action = _lock_action(action)
    if action.owner_id != actor.pk:
        raise NotPermitted(_("Only the owner of the action may complete it."))
    if action.status != ActionStatus.OPEN:
        raise WrongState(_("This action is already done."), current_state=action.status)
    if not (evidence or "").strip():
        raise InvalidInput(_("Describe the evidence."), field_errors={"evidence": [_("Required.")]})
    for upload, content_type, sha256 in attachments or []:
        ActionAttachment.store(upload, content_type=content_type, sha256=sha256, uploaded_by=actor, action=action)
    action.status, action.evidence, action.done_at = ActionStatus.DONE, evidence.strip(), timezone.now()
    action.save(update_fields=["status", "evidence", "done_at"])
    _log("action_done", action.case, actor, action=action.pk, position=action.position,
         overdue=is_overdue(ActionStatus.OPEN, action.due_date),
         attachments=[a.sha256 for a in action.attachments.all()])
    return _version(action.case, actor, f"action {action.position} done")


def request_extension(action, *, actor, new_due_date, reason):
    """CA-5: the owner asks for a later due date, with a reason; the Quality manager decides."""
    action = _lock_action(action)
    if action.owner_id != actor.pk:
        raise NotPermitted(_("Only the owner of the action may ask for an extension."))
    if action.status != ActionStatus.OPEN:
        raise WrongState(_("This action is already done."), current_state=action.status)
    if action.extensions.filter(status=ExtensionStatus.PENDING).exists():
        raise WrongState(_("An extension request for this action is already waiting for a decision."))
    errors = {}
    if not new_due_date:
        errors["new_due_date"] = [_("Give the new due date.")]
    elif new_due_date <= action.due_date:
        errors["new_due_date"] = [_("The new due date must be later than the current one (%(date)s).")
                                  % {"date": action.due_date}]
    elif new_due_date < timezone.localdate():
        errors["new_due_date"] = [_("The due date may not be in the past.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Give the reason for the extension.")]
    if errors:
        raise InvalidInput(_("The extension request is incomplete."), field_errors=errors)
    extension = DueDateChange.objects.create(action=action, old_due_date=action.due_date, new_due_date=new_due_date,
                                             reason=reason.strip(), requested_by=actor)
    _log("extension_requested", action.case, actor, reason=extension.reason, action=action.pk,
         old=action.due_date, new=new_due_date)
    _version(action.case, actor, f"action {action.position}: extension requested")
    return extension


def pending_extension(action):
    return action.extensions.filter(status=ExtensionStatus.PENDING).order_by("-pk").first()


def decide_extension(extension, *, actor, approved, reason):
    """CA-5: approved → the due date moves (old → new, who, when, why stay in the
    history); rejected with a reason → unchanged."""
    extension = DueDateChange.objects.select_for_update(of=("self",)).select_related("action__case__record").get(
        pk=extension.pk)
    if extension.status != ExtensionStatus.PENDING:
        raise WrongState(_("This extension request has already been decided."), current_state=extension.status)
    if not approved and not (reason or "").strip():
        raise InvalidInput(_("Give the reason for rejecting the extension."),
                           field_errors={"reason": [_("Required when rejecting.")]})
    action = _lock_action(extension.action)
    extension.status = ExtensionStatus.APPROVED if approved else ExtensionStatus.REJECTED
    extension.decided_by, extension.decided_at = actor, timezone.now()
    extension.decision_reason = (reason or "").strip()
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    old = action.due_date
    if approved:
        action.due_date = extension.new_due_date
        action.save(update_fields=["due_date"])
    audit.log("capa.extension_" + extension.status, action, actor=actor, record=action.case.record,
              process_id=action.case.record.process_id, old={"due_date": old}, new={"due_date": action.due_date},
              reason=extension.decision_reason or extension.reason)
    _version(action.case, actor, f"action {action.position}: extension {extension.status}")
    return extension


def overdue_actions():
    """Open actions past their current due date (CA-5; shown in lists, reminded once)."""
    return CapaAction.objects.overdue().select_related("case__record", "owner")


OVERDUE_TITLE = gettext_lazy("Overdue corrective action %(number)s #%(position)s")
OVERDUE_BODY = gettext_lazy("The action \"%(action)s\" of %(number)s, owned by %(owner)s, was due on %(due)s "
                            "and is not done. Please complete it or ask for an extension.")


def remind_overdue_actions():
    """CA-5: one reminder per overdue action and due date, to its owner and the Quality
    manager(s), through the notification centre (in-app and e-mail as each person
    chose, in their own language); audited. Returns the number of actions reminded.
    (The generic escalation of the action's task — department manager, then Quality
    manager / General Manager — runs beside it in inbox.escalation.)"""
    managers = list(quality_managers())
    reminded = 0
    for action in overdue_actions():
        if action.reminded_for == action.due_date:
            continue  # already reminded for this due date (an approved extension re-arms it)
        recipients = {action.owner.pk: action.owner, **{m.pk: m for m in managers}}
        params = {"action": action.description, "number": action.case.record.number,
                  "position": action.position, "owner": action.owner.printed_name, "due": action.due_date}
        with transaction.atomic():
            for user in recipients.values():
                notify(user, NotificationKind.ESCALATION, OVERDUE_TITLE, OVERDUE_BODY, params,
                       link=process_link(action.case.record.process), process=action.case.record.process)
            action.reminded_for = action.due_date
            action.save(update_fields=["reminded_for"])
            audit.log("capa.action_overdue_reminded", action, record=action.case.record,
                      process_id=action.case.record.process_id,
                      new={"owner": action.owner.username, "due": action.due_date,
                           "to": sorted(u.username for u in recipients.values())})
        reminded += 1
    return reminded


# --- D6: implemented and validated; the effectiveness check is planned ---------------------------------------------


def default_verification_date(case):
    latest = case.actions.filter(round=case.round).aggregate(latest=Max("due_date"))["latest"]
    start = max(timezone.localdate(), latest or timezone.localdate())
    return start + datetime.timedelta(days=verification_days())


def validate_implementation(case, *, actor, data, sign):
    """D6: every action of the round done, the containment removed, the Quality manager
    sets the effectiveness check's date: on / after every action's due date (CA-3)."""
    case = _lock(case)
    _expect(case, CapaStatus.IMPLEMENTATION, CapaStatus.VALIDATION)
    errors = {}
    still_open = list(open_actions(case))
    if still_open:
        errors["non_field_errors"] = [_("Actions still open: %(list)s.") % {
            "list": ", ".join(f"#{a.position} {a.description[:40]}" for a in still_open)}]
    date = data.get("verification_date")
    latest = case.actions.filter(round=case.round).aggregate(latest=Max("due_date"))["latest"]
    if not date:
        errors["verification_date"] = [_("Set the date of the effectiveness check.")]
    elif date < timezone.localdate():
        errors["verification_date"] = [_("The verification date may not be in the past.")]
    elif latest and date < latest:
        errors["verification_date"] = [_("The verification date must be on or after every action's due date "
                                         "(%(date)s).") % {"date": latest}]
    if not data.get("containment_removed"):
        errors["containment_removed"] = [_("Remove the containment once the permanent actions work.")]
    if not (data.get("validation") or "").strip():
        errors["validation"] = [_("Describe how the actions were validated.")]
    if errors:
        raise InvalidInput(_("D6 cannot be closed yet."), field_errors=errors)
    case.validation, case.containment_removed = data["validation"].strip(), True
    case.status = CapaStatus.AWAITING_VERIFICATION
    case.save(update_fields=["validation", "containment_removed", "status"])
    EffectivenessCheck.objects.create(case=case, round=case.round, verification_date=date, planned_by=actor)
    _section(case, "D6", actor, case.validation)
    _log("validated", case, actor, round=case.round, verification_date=date)
    version = _version(case, actor, f"D6 validated; effectiveness check on {date}")
    sign(version, role=role_label(Department.QUALITY, Role.MANAGER))
    return version


def current_check(case):
    return case.checks.filter(round=case.round).order_by("-pk").first()


def verification_moment(case):
    """The moment the verification task opens: the start of the verification date (local time)."""
    check = current_check(case)
    return timezone.make_aware(datetime.datetime.combine(check.verification_date, datetime.time.min))


def open_verification(case, *, actor=None):
    actor = actor or scheduler_user()
    case = _lock(case)
    _expect(case, CapaStatus.AWAITING_VERIFICATION)
    _set_status(case, CapaStatus.VERIFICATION)
    _log("verification_due", case, actor, round=case.round)
    return _version(case, actor, "effectiveness check due")


def verify_effectiveness(case, *, actor, data, sign):
    """CA-3: Quality reviews effectiveness (result, date, reviewer, signed). Not effective →
    back to D4 in a new round (the earlier analysis stays as history); effective → D7."""
    case = _lock(case)
    _expect(case, CapaStatus.VERIFICATION)
    if not (data.get("result") or "").strip():
        raise InvalidInput(_("Describe the result of the check."), field_errors={"result": [_("Required.")]})
    check = current_check(case)
    check.effective, check.result = data["effective"], data["result"].strip()
    check.verified_by, check.verified_at = actor, timezone.now()
    check.save(update_fields=["effective", "result", "verified_by", "verified_at"])
    _log("effectiveness_checked", case, actor, round=case.round, effective=check.effective)
    version = _version(case, actor, f"effectiveness check round {case.round}: "
                                    + ("effective" if check.effective else "not effective"))
    sign(version, role="品质部 Quality")
    if check.effective:
        _set_status(case, CapaStatus.PREVENTION)
    else:
        history = case.analysis_history or {}
        history.setdefault("root_causes", []).append({"round": case.round, "root_cause": case.root_cause,
                                                      "escape_point": case.escape_point})
        case.analysis_history = history
        case.round += 1
        case.status = CapaStatus.ROOT_CAUSE
        case.containment_removed = False
        case.save(update_fields=["analysis_history", "round", "status", "containment_removed"])
        _log("reopened", case, actor, round=case.round, reason=check.result)
    _version(case, actor, "back to D4: not effective" if not check.effective else "effective: on to D7")
    return check.effective


# --- D7: prevent recurrence; D8: closure ------------------------------------------------------------------------------


def record_prevention(case, *, actor, data):
    """D7: documents and similar products; a document item may raise a document change
    request (P4), linked both ways (the revision names this report as raised_from)."""
    case = _lock(case)
    _expect(case, CapaStatus.PREVENTION)
    items = data.get("prevention") or []
    errors = {}
    if not items:
        errors["prevention"] = [_("Say what prevents recurrence (documents, similar products).")]
    for index, item in enumerate(items):
        if item.get("raise_change") and not item.get("document"):
            errors[f"prevention[{index}].document"] = [_("Choose the document to change.")]
    if errors:
        raise InvalidInput(_("D7 is incomplete."), field_errors=errors)
    case.prevention_items.all().delete()
    for item in items:
        revision = None
        if item.get("raise_change"):
            revision = request_change(item["document"], actor=actor, source_record=case.record,
                                      reason=f"{case.record.number} D7: {item['description']}")
        PreventionItem.objects.create(case=case, kind=item["kind"], description=item["description"].strip(),
                                      document=item.get("document"), change_revision=revision)
    _set_status(case, CapaStatus.CLOSURE)
    _section(case, "D7", actor, "; ".join(i["description"] for i in items))
    _log("prevention_recorded", case, actor, items=len(items),
         change_requests=[p.change_revision.record.number for p in case.prevention_items.all()
                          if p.change_revision_id])
    return _version(case, actor, "D7 prevention")


def closure_problems(case):
    """What still blocks closure (CA-3, CA-4, 8D-2): a list of (field, message)."""
    problems = []
    if open_actions(case).exists():
        problems.append(("non_field_errors", _("Every action must be done before closure.")))
    check = case.checks.filter(round=case.round).order_by("-pk").first()
    if check is None or not check.effective:
        problems.append(("non_field_errors", _("An effective effectiveness check is required before closure.")))
    done = {s.code for s in case.sections.all()}
    missing = [code for code in D_STEPS[:-1] if code not in done]
    if missing:
        problems.append(("non_field_errors", _("D-steps not completed: %(list)s.") % {"list": ", ".join(missing)}))
    return problems


def close_capa(case, *, actor, data, sign):
    """D8: "risks updated?" and "QMS change needed?" answered (CA-4; a needed change links
    to a document change request), every action done, the check effective (CA-3) and
    every D-step complete (8D-2). Signed by the Quality manager."""
    case = _lock(case)
    _expect(case, CapaStatus.CLOSURE)
    errors = {}
    for field, message in closure_problems(case):
        errors.setdefault(field, []).append(message)
    if data.get("risks_updated") is None:
        errors["risks_updated"] = [_("Answer whether the risks were updated.")]
    if data.get("qms_change_needed") is None:
        errors["qms_change_needed"] = [_("Answer whether the QMS must change.")]
    elif data["qms_change_needed"] and not case.prevention_items.filter(change_revision__isnull=False).exists():
        errors["qms_change_needed"] = [_("A needed QMS change must be raised as a document change request in D7.")]
    if errors:
        raise InvalidInput(_("The corrective action cannot be closed yet."), field_errors=errors)
    case.risks_updated, case.risks_note = data["risks_updated"], (data.get("risks_note") or "").strip()
    case.qms_change_needed = data["qms_change_needed"]
    case.closing_summary = (data.get("closing_summary") or "").strip()
    case.closed_by, case.closed_at, case.status = actor, timezone.now(), CapaStatus.CLOSED
    case.save()
    _section(case, "D8", actor, case.closing_summary)
    corrective_action_closed.send(sender=CapaCase, case=case)  # e.g. P2 shows it on the complaint
    _log("closed", case, actor, risks_updated=case.risks_updated, qms_change_needed=case.qms_change_needed)
    version = _version(case, actor, "D8 closed")
    sign(version, role=role_label(Department.QUALITY, Role.MANAGER))
    return version


# --- who may see and act ----------------------------------------------------------------------------------------------


def capa_of_process(process):
    return CapaCase.objects.select_related("record", "leader", "complaint_case__record").filter(
        record__process_id=process.pk).first()
