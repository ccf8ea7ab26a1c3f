"""P3 end to end, through the REST API and through the browser URLs: the full 8D loop
with one "not effective" round, extensions approved and rejected, the verification
timer, closure conditions (CA-1…CA-5, 8D-1…8D-3)."""
import datetime

import pytest
import time_machine
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.models import AuditEntry, Record, Signature
from drivers import open_steps, open_task
from procedures.capa.models import ActionStatus, CapaAction, CapaCase, CapaStatus, DueDateChange, WhyStep
from p3_support import (
    closure_data,
    day,
    extension,
    fire_timers,
    p3_drivers,
    plan_data,
    prevention_data,
    raise_data,
    root_cause_data,
    skip_rendering,
    validation_data,
    verification_data,
    walk_to_actions,
)

DRIVERS = p3_drivers()


@pytest.fixture(params=list(DRIVERS))
def drive(request, people, monkeypatch):
    skip_rendering(monkeypatch)
    return DRIVERS[request.param]()


def fire_on(date_iso):
    moment = datetime.datetime.combine(datetime.date.fromisoformat(date_iso), datetime.time(0, 5),
                                       tzinfo=timezone.get_current_timezone())
    with time_machine.travel(moment, tick=False):
        return fire_timers()


def test_full_loop_with_one_not_effective_round_extensions_and_the_verification_timer(drive, people):
    pid = drive.start("quality", raise_data())
    case = CapaCase.objects.get(record__process_id=pid)
    assert case.record.number.startswith("CA-") and case.source == "internal_nc"
    walk_to_actions(drive, pid)
    assert open_steps(pid) == ["do_action", "do_action"]
    production_action = CapaAction.objects.get(case=case, owner=people["production"])
    engineering_action = CapaAction.objects.get(case=case, owner=people["engineering"])
    # each action is a task in its owner's inbox, due on the action's own due date
    task = open_task(pid, "do_action", "production")
    assert task.owner == people["production"] and task.status == STATUS.ASSIGNED
    assert task.flow_task.due_date_for(task) == production_action.due_date

    # CA-5: one extension approved, one rejected with a reason
    assert drive.do("production", pid, "do_action", extension(25)) == 200, drive.last_response.content[:2000]
    assert drive.do("quality_mgr", pid, "decide_extension", {"approved": "yes", "reason": "同意 ok"}) == 200
    assert drive.do("engineering", pid, "do_action", extension(40)) == 200
    assert drive.do("quality_mgr", pid, "decide_extension", {"approved": "no", "reason": ""}) == 400
    assert drive.do("quality_mgr", pid, "decide_extension",
                    {"approved": "no", "reason": "不影响交期 keep the date"}) == 200
    production_action.refresh_from_db(), engineering_action.refresh_from_db()
    assert production_action.due_date.isoformat() == day(25)
    assert production_action.original_due_date.isoformat() == day(10)
    assert engineering_action.due_date.isoformat() == day(20)
    history = list(DueDateChange.objects.filter(action__case=case).order_by("pk").values_list("status", "new_due_date"))
    assert [h[0] for h in history] == ["approved", "rejected"]
    # the reopened task is the owner's again and due on the new date
    task = open_task(pid, "do_action", "production")
    assert task.owner == people["production"] and task.flow_task.due_date_for(task) == production_action.due_date
    assert AuditEntry.objects.filter(action="capa.extension_approved").exists()
    assert AuditEntry.objects.filter(action="capa.extension_rejected", reason="不影响交期 keep the date").exists()

    assert drive.do("production", pid, "do_action", {"outcome": "done", "evidence": ""}) == 400
    assert drive.do("production", pid, "do_action",
                    {"outcome": "done", "evidence": "规范 PS-12 B 版 spec PS-12 rev B"}) == 200
    assert drive.do("engineering", pid, "do_action", {"outcome": "done", "evidence": "培训记录 training record"}) == 200
    assert open_steps(pid) == ["validate"]

    # D6: the check's date must not be before the last due date (day 25)
    assert drive.do("quality_mgr", pid, "validate", validation_data(verification_in=24), meaning="approved") == 400
    assert drive.do("quality_mgr", pid, "validate", validation_data(verification_in=60), meaning="approved") == 200
    case.refresh_from_db()
    assert case.status == CapaStatus.AWAITING_VERIFICATION and open_steps(pid) == []
    # the timer fires on the verification date, not before
    assert fire_on(day(59)) == 0
    assert fire_on(day(60)) == 1
    verify = open_task(pid, "verify")
    assert verify.status == STATUS.NEW and verify.owner_permission == "accounts.dept_quality_staff"

    # not effective → back to D4; round 1's analysis stays
    assert drive.do("quality", pid, "verify", verification_data(False), meaning="verified") == 200
    case.refresh_from_db()
    assert (case.status, case.round) == (CapaStatus.ROOT_CAUSE, 2)
    assert open_steps(pid) == ["analyse"]
    assert drive.do("engineering", pid, "analyse", root_cause_data(
        answers=["隔板太薄 separators too thin", "采购规格错误 wrong purchase spec"],
        root="隔板规格错误 separator spec wrong")) == 200
    assert WhyStep.objects.filter(case=case, round=1).count() == 3
    assert WhyStep.objects.filter(case=case, round=2).count() == 2
    assert drive.do("engineering", pid, "plan", plan_data("materials", due_in=(5,))) == 200
    assert drive.do("quality_mgr", pid, "approve_plan", {}, meaning="rejected", reason="") == 400
    assert drive.do("quality_mgr", pid, "approve_plan", {}, meaning="rejected", reason="日期太紧 too tight") == 200
    assert open_steps(pid) == ["plan"]
    assert drive.do("engineering", pid, "plan", plan_data("materials", due_in=(7,))) == 200
    assert drive.do("quality_mgr", pid, "approve_plan", {}, meaning="approved") == 200
    assert drive.do("materials", pid, "do_action", {"outcome": "done", "evidence": "新隔板到货 new separators"}) == 200
    assert drive.do("quality_mgr", pid, "validate", validation_data(verification_in=30), meaning="approved") == 200
    assert fire_on(day(30)) == 1
    assert drive.do("quality", pid, "verify", verification_data(True), meaning="verified") == 200

    # D7 then D8: closure needs both answers
    assert drive.do("engineering", pid, "prevent", prevention_data()) == 200
    assert drive.do("quality_mgr", pid, "close", {**closure_data(), "risks_updated": None}, meaning="approved") == 400
    assert drive.do("quality_mgr", pid, "close", {**closure_data(), "qms_change_needed": None},
                    meaning="approved") == 400
    # a needed QMS change must have been raised as a document change in D7 (CA-4)
    assert drive.do("quality_mgr", pid, "close", closure_data(qms="yes"), meaning="approved") == 400
    assert drive.do("quality_mgr", pid, "close", closure_data(), meaning="approved") == 200

    case.refresh_from_db()
    assert case.status == CapaStatus.CLOSED and case.risks_updated is True and case.qms_change_needed is False
    assert Task.objects.filter(process_id=pid, status__in=[STATUS.NEW, STATUS.ASSIGNED]).count() == 0
    codes = sorted({(s.code, s.round) for s in case.sections.all()})
    assert {c for c, _ in codes} == {f"D{i}" for i in range(9)}
    record = Record.objects.get(pk=case.record_id)
    assert record.status == CapaStatus.CLOSED
    data = record.get_version().data
    assert [r["effectiveness"]["effective"] for r in data["rounds"]] == [False, True]
    assert data["rounds"][0]["whys"][0]["answer"] == root_cause_data()["whys"][0]["answer"]
    assert data["earlier_root_causes"][0]["round"] == 1
    meanings = sorted(Signature.objects.filter(record_version__record=record).values_list("meaning", flat=True))
    assert meanings.count("verified") == 2 and meanings.count("approved") >= 5
    assert CapaAction.objects.filter(case=case, status=ActionStatus.OPEN).count() == 0
    # every change went through a version: the working data rebuilds the report exactly
    from core.verification import working_data_warnings

    assert [w for w in working_data_warnings() if case.record.number in str(w)] == []


def test_closure_is_refused_while_an_action_is_open_and_nothing_is_saved(drive, people):
    pid = drive.start("quality", raise_data())
    walk_to_actions(drive, pid, owners=("production",))
    assert drive.do("production", pid, "do_action", {"outcome": "done", "evidence": "完成 done"}) == 200
    assert drive.do("quality_mgr", pid, "validate", validation_data(), meaning="approved") == 200
    fire_on(day(30))
    assert drive.do("quality", pid, "verify", verification_data(True), meaning="verified") == 200
    assert drive.do("engineering", pid, "prevent", prevention_data()) == 200
    case = CapaCase.objects.get(record__process_id=pid)
    # an action reopened behind the flow's back (e.g. its evidence withdrawn) blocks closure
    CapaAction.objects.filter(case=case).update(status=ActionStatus.OPEN)
    version = case.record.current_version
    assert drive.do("quality_mgr", pid, "close", closure_data(), meaning="approved") == 400
    case.refresh_from_db()
    assert case.status == CapaStatus.CLOSURE and case.closed_at is None
    assert case.record.current_version == version and not case.sections.filter(code="D8").exists()


def test_an_action_is_evidenced_with_text_and_files_whose_hashes_the_version_keeps(drive, people):
    from p2_support import photo

    pid = drive.start("quality", raise_data())
    walk_to_actions(drive, pid, owners=("production",))
    assert drive.do("production", pid, "do_action", {"outcome": "done", "evidence": "照片为证 photo attached"},
                    files={"attachments": [photo("after.png")]}) == 200, drive.last_response.content[:2000]
    action = CapaAction.objects.get()
    file = action.attachments.get()
    assert file.original_name == "after.png" and len(file.sha256) == 64
    data = action.case.record.get_version().data
    assert data["rounds"][0]["actions"][0]["attachments"][0]["sha256"] == file.sha256
    assert AuditEntry.objects.filter(action="capa.action_done", new_values__attachments=[file.sha256]).exists()
