"""Absences and delegation (issue 7 part B): while a person is absent, a task the flow
assigns to them personally goes to their substitute, who signs "on behalf of" them —
on the signature, in the audit trail and on the record's PDF. The rules (not to
oneself, no cycles, no overlaps, ...) refuse with a clear error and save nothing.

The task used is the complaint analysis sign-off (P2.7), which the flow assigns
directly to the Market manager who compiled it (`.Assign(analysis_signer)`). It needs the
Market manager role, so a substitute who signs it must hold that role through a membership:
the deputy Market manager does; `market2` (Market staff) does not, and neither does the
administrator (being a superuser grants no department role)."""
import datetime
import shutil
import subprocess

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from viewflow.workflow.status import STATUS

from inbox import delegation as service
from accounts.models import Membership, User
from inbox.models import Delegation
from api_driver import client_for
from core import esign
from core.canonical import sha256_hex
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import AuditEntry, RecordFile, Signature
from core.verification import verify_all
from flow_driver import act, open_tasks, start
from procedures.complaints import actions as p2
from procedures.complaints.models import ComplaintAnalysis
from procedures.complaints.flows import ComplaintFlow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def day(offset=0):
    return service.company_day() + datetime.timedelta(days=offset)


@pytest.fixture
def deputy(people):
    """The substitute who holds the Market manager role: a deputy Market manager."""
    user = User.objects.create_user("market_deputy", password="Demo-pass-2026", display_name="副经理 Deputy")
    Membership.objects.create(user=user, department="market", role="manager")
    esign.accept_accountability(user)
    return user


def absent(people, username, substitute, start=0, end=2, reason="年假 annual leave"):
    return service.create_delegation(delegator=people[username], substitute=substitute, starts_on=day(start),
                                     ends_on=day(end), reason=reason, actor=people[username])


def request_analysis(people):
    """The Market manager compiles an analysis; the flow assigns its sign-off to the Market manager."""
    period_start, period_end = p2.previous_period()
    process = start(ComplaintFlow, "start_analysis", people["market_mgr"],
                    {"period_start": period_start.isoformat(), "period_end": period_end.isoformat()})
    (task,) = open_tasks(process, "approve_analysis")
    return process, task


# --- routing in and out of the absence window ---------------------------------------------------------


def test_in_the_absence_window_a_directly_assigned_task_goes_to_the_substitute(people, deputy):
    delegation = absent(people, "market_mgr", deputy)
    process, task = request_analysis(people)
    assert (task.owner, task.status) == (deputy, STATUS.ASSIGNED)
    assert task.data["on_behalf_of"] == people["market_mgr"].pk
    assert service.acting_for(task, deputy) == people["market_mgr"]
    assert service.acting_for(task, people["market_mgr"]) is None
    entry = AuditEntry.objects.get(action="task.delegated", object_id=str(task.pk))
    assert entry.on_behalf_of == people["market_mgr"]
    assert entry.old_values["owner"] == "market_mgr" and entry.new_values["owner"] == "market_deputy"
    assert entry.new_values["chain"] == [{"delegation": delegation.pk, "from": "market_mgr", "to": "market_deputy"}]


@pytest.mark.parametrize("when", ["before the start", "after the end", "cancelled"])
def test_outside_the_absence_window_the_task_stays_with_the_absent_person(people, deputy, when):
    if when == "before the start":
        absent(people, "market_mgr", deputy, start=1, end=3)
        process, task = request_analysis(people)
    elif when == "after the end":
        absent(people, "market_mgr", deputy, start=0, end=1)
        with time_machine.travel(timezone.now() + datetime.timedelta(days=2), tick=False):
            process, task = request_analysis(people)
    else:
        delegation = absent(people, "market_mgr", deputy, start=0, end=3)
        service.cancel_delegation(delegation, actor=people["market_mgr"], reason="提前返岗 back early")
        process, task = request_analysis(people)
    assert task.owner == people["market_mgr"]
    assert "on_behalf_of" not in task.data
    assert not AuditEntry.objects.filter(action__startswith="task.delegat").exists()


def test_the_last_day_is_inclusive_in_the_company_time_zone(people, deputy):
    absent(people, "market_mgr", deputy, start=0, end=1)
    tz = timezone.get_default_timezone()
    last_evening = datetime.datetime.combine(day(1), datetime.time(23, 30), tzinfo=tz)
    with time_machine.travel(last_evening, tick=False):
        assert service.substitute_for(people["market_mgr"]) == deputy
    with time_machine.travel(last_evening + datetime.timedelta(hours=1), tick=False):
        assert service.substitute_for(people["market_mgr"]) is None


def test_a_substitute_without_the_tasks_role_does_not_get_it_it_waits_in_the_queue(people):
    absent(people, "market_mgr", people["market2"])
    process, task = request_analysis(people)
    assert task.owner is None and task.status == STATUS.NEW
    assert task.owner_permission == "accounts.dept_market_manager"
    entry = AuditEntry.objects.get(action="task.delegation_to_queue", object_id=str(task.pk))
    assert "孙丽 Sun Li" in entry.reason and entry.old_values["owner"] == "market_mgr"


def test_a_substitute_who_is_absent_too_passes_the_task_on(people, deputy):
    absent(people, "market_mgr", people["market2"])
    absent(people, "market2", deputy)
    process, task = request_analysis(people)
    assert task.owner == deputy and task.data["on_behalf_of"] == people["market_mgr"].pk
    entry = AuditEntry.objects.get(action="task.delegated", object_id=str(task.pk))
    assert [hop["to"] for hop in entry.new_values["chain"]] == ["market2", "market_deputy"]


# --- signing on behalf --------------------------------------------------------------------------------


pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


@pdftotext
def test_the_substitute_signs_on_behalf_and_the_signature_audit_and_pdf_say_so(people, deputy):
    absent(people, "market_mgr", deputy)
    process, task = request_analysis(people)
    act(process, "approve_analysis", deputy, {"comment": "代为签署 signed in his absence"}, meaning="approved")

    analysis = ComplaintAnalysis.objects.get(record__process=process)
    version = analysis.record.get_version()
    signature = Signature.objects.get(record_version__record=analysis.record)
    assert (signature.signer, signature.on_behalf_of) == (deputy, people["market_mgr"])
    assert (signature.printed_name, signature.on_behalf_of_name) == ("副经理 Deputy", "张伟 Zhang Wei")
    assert esign.signature_problems(signature) == []
    completed = AuditEntry.objects.get(action="task.completed", object_id=str(task.pk))
    assert completed.actor == deputy and completed.on_behalf_of == people["market_mgr"]
    assert completed.new_values["on_behalf_of"] == "market_mgr"
    signed = AuditEntry.objects.get(action="esign.signed", object_id=str(signature.pk))
    assert signed.on_behalf_of == people["market_mgr"]

    pdf = RecordFile.objects.get(record_version=version, kind="pdf")
    text = " ".join(subprocess.run(["pdftotext", "-enc", "UTF-8", pdf.file.path, "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    assert "Signed by 副经理 Deputy on behalf of 张伟 Zhang Wei" in text
    assert "签署人 副经理 Deputy 代 张伟 Zhang Wei 签署" in text

    counts, problems, _warnings = verify_all()
    assert problems == [] and counts["signatures"] == 1
    call_command("verify_audit")  # exits non-zero on any problem


def test_the_record_page_and_the_api_show_on_behalf_of(people, deputy):
    absent(people, "market_mgr", deputy)
    process, task = request_analysis(people)
    act(process, "approve_analysis", deputy, {}, meaning="approved")
    record = ComplaintAnalysis.objects.get(record__process=process).record
    number = record.number
    web = Client()
    web.force_login(people["market"])
    page = web.get(f"/qms/records/{number}/").content.decode()
    assert "qms-on-behalf" in page and "张伟 Zhang Wei" in page
    body = client_for("market").get(f"/api/records/{record.pk}/").json()
    (sig,) = body["signatures"]
    assert (sig["signer_username"], sig["on_behalf_of"], sig["on_behalf_of_name"]) == (
        "market_deputy", "market_mgr", "张伟 Zhang Wei")
    assert sig["valid"] is True


def test_signatures_without_delegation_hash_as_before_and_on_behalf_of_is_sealed(people, deputy):
    process, task = request_analysis(people)  # nobody absent: the Market manager signs himself
    act(process, "approve_analysis", people["market_mgr"], {}, meaning="approved")
    own = Signature.objects.get(record_version__record__process=process)
    assert own.on_behalf_of is None and "on_behalf_of" not in own.hashed_content()
    as_hashed_before_delegation = {  # the content a signature hashed before on_behalf_of existed
        "record": own.record_version.record.number, "version": own.record_version.version,
        "content_hash": own.content_hash, "signer": own.signer_id, "username": own.signer_username,
        "printed_name": own.printed_name, "role": own.role, "meaning": own.meaning, "reason": own.reason,
        "signed_at": own.signed_at, "task": own.task_id, "step": own.step}
    assert sha256_hex(as_hashed_before_delegation) == own.signature_hash

    absent(people, "market_mgr", deputy)
    process, task = request_analysis(people)
    act(process, "approve_analysis", deputy, {}, meaning="approved")
    delegated = Signature.objects.get(record_version__record__process=process)
    assert delegated.hashed_content()["on_behalf_of"] == people["market_mgr"].pk
    # rewriting whom it was signed for, behind the application's back, is detected
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # bypass the append-only trigger
        cursor.execute("UPDATE core_signature SET on_behalf_of_name = %s WHERE id = %s", ["someone else", delegated.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    delegated.refresh_from_db()
    assert esign.signature_problems(delegated) == ["the signature itself was altered"]
    assert esign.signature_problems(own) == []


# --- refusals -------------------------------------------------------------------------------------------


def refused(people, *, delegator, substitute, start=0, end=2, reason="出差 business trip"):
    created = Delegation.objects.count()
    audited = AuditEntry.objects.filter(action="delegation.created").count()
    with pytest.raises(InvalidInput) as error:
        service.create_delegation(delegator=people[delegator], substitute=substitute, starts_on=day(start),
                                  ends_on=day(end), reason=reason, actor=people[delegator])
    assert Delegation.objects.count() == created
    assert AuditEntry.objects.filter(action="delegation.created").count() == audited
    return error.value.field_errors


def test_nobody_can_delegate_to_themselves(people):
    errors = refused(people, delegator="quality", substitute=people["quality"])
    assert errors == {"substitute": ["Nobody can delegate to themselves."]}


def test_a_deactivated_or_signing_locked_substitute_is_refused(people):
    User.objects.filter(username="quality_mgr").update(is_active=False)
    errors = refused(people, delegator="quality", substitute=User.objects.get(username="quality_mgr"))
    assert errors == {"substitute": ["刘洋 Liu Yang is deactivated."]}
    User.objects.filter(username="production").update(signing_locked_at=timezone.now())
    errors = refused(people, delegator="quality", substitute=User.objects.get(username="production"))
    assert "signing is locked" in errors["substitute"][0]


def test_the_end_must_not_be_before_the_start_nor_the_start_in_the_past(people):
    assert refused(people, delegator="quality", substitute=people["quality_mgr"], start=3, end=2) == {
        "ends_on": ["The end must not be before the start."]}
    assert refused(people, delegator="quality", substitute=people["quality_mgr"], start=-1, end=2) == {
        "starts_on": ["An absence cannot start in the past."]}
    assert "reason" in refused(people, delegator="quality", substitute=people["quality_mgr"], reason="  ")


def test_overlapping_absences_of_the_same_person_are_refused(people):
    absent(people, "quality", people["quality_mgr"], start=2, end=5)
    errors = refused(people, delegator="quality", substitute=people["production"], start=5, end=8)
    assert "overlaps the absence from" in errors["starts_on"][0]
    # the day after is free; so is a cancelled period
    absent(people, "quality", people["production"], start=6, end=8)
    later = absent(people, "quality", people["quality_mgr"], start=10, end=12)
    service.cancel_delegation(later, actor=people["quality"])
    absent(people, "quality", people["production"], start=11, end=12)


def test_a_cycle_of_two_is_refused_when_the_periods_share_a_day(people):
    absent(people, "quality", people["quality_mgr"], start=0, end=4)
    errors = refused(people, delegator="quality_mgr", substitute=people["quality"], start=4, end=6)
    assert errors["substitute"][0].startswith("This would make a circle of substitutes")
    assert "刘洋 Liu Yang → 王芳 Wang Fang → 刘洋 Liu Yang" in errors["substitute"][0]
    # no shared day, no cycle
    absent(people, "quality_mgr", people["quality"], start=5, end=6)


def test_a_cycle_of_three_is_refused(people):
    absent(people, "quality", people["quality_mgr"], start=0, end=10)
    absent(people, "quality_mgr", people["production"], start=3, end=6)
    errors = refused(people, delegator="production", substitute=people["quality"], start=5, end=9)
    assert "王芳 Wang Fang → 刘洋 Liu Yang → 陈静 Chen Jing" in errors["substitute"][0]
    # the B→C leg covers days 3–6 only: from day 7 the circle is open
    absent(people, "production", people["quality"], start=7, end=9)


def test_only_the_person_their_manager_or_an_administrator_records_an_absence(people):
    with pytest.raises(NotPermitted):
        service.create_delegation(delegator=people["quality"], substitute=people["quality_mgr"], starts_on=day(),
                                  ends_on=day(1), reason="病假 sick leave", actor=people["production_mgr"])
    delegation = service.create_delegation(delegator=people["quality"], substitute=people["quality_mgr"],
                                           starts_on=day(), ends_on=day(1), reason="病假 sick leave",
                                           actor=people["quality_mgr"])
    assert delegation.created_by == people["quality_mgr"]
    entry = AuditEntry.objects.get(action="delegation.created", object_id=str(delegation.pk))
    assert entry.actor == people["quality_mgr"] and entry.new_values["delegator"] == "quality"


def test_cancelling_is_audited_and_an_ended_absence_cannot_be_cancelled(people):
    delegation = absent(people, "quality", people["quality_mgr"], start=0, end=1)
    with pytest.raises(NotPermitted):
        service.cancel_delegation(delegation, actor=people["production"])
    service.cancel_delegation(delegation, actor=people["quality"], reason="提前返岗 back early")
    entry = AuditEntry.objects.get(action="delegation.cancelled", object_id=str(delegation.pk))
    assert entry.reason == "提前返岗 back early" and entry.new_values["state"] == "cancelled"
    with pytest.raises(WrongState):
        service.cancel_delegation(delegation, actor=people["quality"])
    ended = absent(people, "production", people["production_mgr"], start=0, end=0)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2), tick=False):
        with pytest.raises(WrongState) as error:
            service.cancel_delegation(ended, actor=people["production"])
    assert error.value.current_state == "ended"


# --- API ------------------------------------------------------------------------------------------------


def test_api_records_lists_and_cancels_my_absences(people):
    api = client_for("quality")
    response = api.post("/api/me/delegations/", {"substitute": "production", "starts_on": day(1).isoformat(),
                                                  "ends_on": day(3).isoformat(), "reason": "年假 annual leave"},
                        format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["delegator"], created["substitute"], created["state"]) == ("quality", "production", "upcoming")
    assert [d["id"] for d in api.get("/api/me/delegations/").json()["results"]] == [created["id"]]
    # the substitute sees it too, and may not cancel it; someone else does not see it
    substitute = client_for("production")
    assert [d["id"] for d in substitute.get("/api/me/delegations/").json()["results"]] == [created["id"]]
    assert client_for("engineering").get("/api/me/delegations/").json()["results"] == []
    assert client_for("engineering").delete(f"/api/me/delegations/{created['id']}/").status_code == 404
    refused_cancel = substitute.delete(f"/api/me/delegations/{created['id']}/")
    assert refused_cancel.status_code == 403 and refused_cancel.json()["detail"]

    response = api.delete(f"/api/me/delegations/{created['id']}/?reason=plans%20changed")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert AuditEntry.objects.get(action="delegation.cancelled").reason == "plans changed"
    again = api.delete(f"/api/me/delegations/{created['id']}/")
    assert again.status_code == 409 and again.json()["current_state"] == "cancelled"


@pytest.mark.parametrize("body, field", [
    ({"substitute": "quality"}, "substitute"),  # to oneself
    ({"substitute": "nobody"}, "substitute"),  # no such user
    ({"ends_on": "2000-01-01"}, "ends_on"),  # before the start
    ({"starts_on": "not a date"}, "starts_on"),
])
def test_api_refuses_bad_absences_in_the_common_error_format(people, body, field):
    payload = {"substitute": "quality_mgr", "starts_on": day(1).isoformat(), "ends_on": day(3).isoformat(),
               "reason": "年假 annual leave", **body}
    response = client_for("quality").post("/api/me/delegations/", payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"] and field in response.json()["errors"]
    assert not Delegation.objects.exists()


def test_the_openapi_schema_documents_the_delegation_endpoints(people):
    schema = client_for("quality").get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/me/delegations/" in text and "/api/me/delegations/{id}/" in text
    assert "/api/tasks/{id}/reassign/" in text


# --- browser --------------------------------------------------------------------------------------------


def web(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_absences_page_records_lists_and_cancels(people):
    browser = web(people["quality"])
    page = browser.get("/qms/delegations/")
    assert page.status_code == 200 and 'id="delegation-form"' in page.content.decode()
    assert 'name="delegator"' not in page.content.decode()  # staff record their own absences only
    response = browser.post("/qms/delegations/", {"substitute": people["quality_mgr"].pk,
                                                   "starts_on": day().isoformat(), "ends_on": day(2).isoformat(),
                                                   "reason": "年假 annual leave"})
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    page = browser.get("/qms/delegations/").content.decode()
    assert f'id="delegation-{delegation.pk}"' in page and 'id="current-absence"' in page
    # refused input comes back on the form, nothing saved
    response = browser.post("/qms/delegations/", {"substitute": people["production"].pk,
                                                   "starts_on": day(1).isoformat(), "ends_on": day(4).isoformat(),
                                                   "reason": "again"})
    assert response.status_code == 400 and "overlaps the absence" in response.content.decode()
    assert Delegation.objects.count() == 1
    assert browser.post(f"/qms/delegations/{delegation.pk}/cancel/", {"reason": "back"}).status_code == 302
    delegation.refresh_from_db()
    assert delegation.cancelled_by == people["quality"]


def test_the_absences_page_pages_each_list_with_its_total_nothing_cut(people, monkeypatch):
    """Issue 15.2, nothing silently cut: the page read the first 300 absences of all three lists together and showed
    them with no sign of the rest. Each list is now newest first, a page at a time, with its total, and keeps its
    own page in the address."""
    from core import paging

    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    mine = [absent(people, "quality", people["market2"], start=10 * n, end=10 * n + 2) for n in range(5)]
    covering = absent(people, "production", people["quality"], start=3, end=4)
    manager = web(people["quality_mgr"])  # sees the quality staff's absences among those of their department
    page = web(people["quality"]).get("/qms/delegations/").content.decode()
    assert 'id="mine-total">5<' in page and 'id="substituting-total">1<' in page
    def listed(html):  # the absences of `mine` on the page, in the page's order
        return sorted((d.pk for d in mine if f'id="delegation-{d.pk}"' in html),
                      key=lambda pk: html.index(f'id="delegation-{pk}"'))

    assert listed(page) == [mine[4].pk, mine[3].pk]  # the newest first
    assert f'id="delegation-{covering.pk}"' in page and "substituting-pages" not in page
    assert 'href="?mine=2#delegations-mine"' in page
    last = web(people["quality"]).get("/qms/delegations/?mine=3&substituting=1").content.decode()
    assert listed(last) == [mine[0].pk]
    assert 'href="?mine=2&amp;substituting=1#delegations-mine"' in last and "3 / 3 (5)" in last
    theirs = manager.get("/qms/delegations/?others=2").content.decode()
    assert 'id="others-total">5<' in theirs and 'id="mine-total">0<' in theirs
    assert listed(theirs) == [mine[2].pk, mine[1].pk]


def test_a_manager_records_the_absence_of_someone_in_their_department(people):
    browser = web(people["quality_mgr"])
    assert 'name="delegator"' in browser.get("/qms/delegations/").content.decode()
    browser.post("/qms/delegations/", {"delegator": people["quality"].pk, "substitute": people["quality_mgr"].pk,
                                        "starts_on": day().isoformat(), "ends_on": day(2).isoformat(),
                                        "reason": "病假 sick leave"})
    delegation = Delegation.objects.get()
    assert (delegation.delegator, delegation.created_by) == (people["quality"], people["quality_mgr"])
    # the absent person sees it; someone of another department does not
    assert f'id="delegation-{delegation.pk}"' in web(people["quality"]).get("/qms/delegations/").content.decode()
    assert f'id="delegation-{delegation.pk}"' not in web(people["production_mgr"]).get(
        "/qms/delegations/").content.decode()


def test_the_absences_page_is_for_people_with_a_department_role(people):
    outsider = User.objects.create(username="visitor", display_name="访客 Visitor")
    assert web(outsider).get("/qms/delegations/").status_code == 403
    assert not Membership.objects.filter(user=outsider).exists()


def test_the_substitute_sees_on_whose_behalf_they_work_on_the_task_page(people, deputy):
    absent(people, "market_mgr", deputy)
    process, task = request_analysis(people)
    page = web(deputy).get(f"/qms/flows/complaint/{process.pk}/approve_analysis/{task.pk}/execute/")
    assert page.status_code == 200
    assert 'id="on-behalf-of"' in page.content.decode() and "张伟 Zhang Wei" in page.content.decode()


def test_a_personal_step_is_never_delegated_nor_reassigned(people):
    """Read-and-acknowledge is personal: the absent person gets it themselves, and no
    manager can hand it to someone else."""
    from p4_support import draft, fire_timers, register, review_all

    absent(people, "quality", people["quality_mgr"], start=0, end=30)
    process = register(people)  # distribution: market and quality
    draft(process, people["market"], "A/0")
    review_all(process, people, ["quality", "market", "production"])  # the default matrix for procedures
    act(process, "approve", people["gm"], {"effective_date": day().isoformat()}, meaning="approved")
    fire_timers()
    (task,) = [t for t in open_tasks(process, "acknowledge") if t.owner == people["quality"]]
    assert "on_behalf_of" not in task.data
    assert not AuditEntry.objects.filter(action__startswith="task.delegat").exists()
    with pytest.raises(NotPermitted):
        service.reassign_task(task, actor=people["quality_mgr"], new_owner=people["quality_mgr"], reason="absent")


def test_a_fan_out_task_of_an_absent_owner_goes_to_the_substitute_audited_on_that_task(people, monkeypatch):
    """The branches of a split are written together (workflows.gateways.SplitActivation): the routing of an absent
    owner's action task is still audited on that task, once it has its key, and the other branches are not."""
    from p3_support import p3_drivers, raise_data, skip_rendering, walk_to_actions
    from viewflow.workflow.models import Task

    skip_rendering(monkeypatch)
    absent(people, "production", people["production_mgr"])
    drive = p3_drivers()["api"]()
    pid = drive.start("quality", raise_data(reference="IPQC-DELEG-1"))
    walk_to_actions(drive, pid, owners=("production", "engineering"))
    opened = {task.data["assignee"]: task for task in Task.objects.filter(
        process_id=pid, flow_task_type="HUMAN", status="ASSIGNED", data__assignee__isnull=False)}
    routed, other = opened[people["production"].pk], opened[people["engineering"].pk]
    assert routed.owner == people["production_mgr"] and other.owner == people["engineering"]
    entry = AuditEntry.objects.get(action="task.delegated", object_id=str(routed.pk))
    assert entry.old_values["owner"] == "production" and entry.new_values["owner"] == "production_mgr"
    assert entry.process_id == pid
    assert AuditEntry.objects.filter(action__startswith="task.delegat").count() == 1
