"""Parallel and quorum sign-offs (workflows/quorum.py), through the real P4 document
approval (a group rule in the approval matrix) and the P2 disposition sign-offs,
plus the policy itself; on PostgreSQL, 20 approvers signing at the same moment."""
import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.models import Membership, User
from core import esign
from core.errors import NotPermitted, WrongState
from core.models import AuditEntry, Meaning, Signature
from core.verification import verify_all
from flow_driver import act, open_tasks
from p4_support import draft, register, review_all
from procedures.documents import actions
from procedures.documents.models import ApprovalRule, RevisionApproval, RevisionStatus
from workflows import quorum
from workflows import actions as engine
from workflows.demo import DEMO_PASSWORD
from procedures.documents.flows import DocumentControlFlow

PROCEDURE_REVIEWERS = ["quality", "market", "production"]
ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]


# --- helpers --------------------------------------------------------------------------------------------


def make_approvers(n, department="finance", role="manager", prefix="fin_mgr"):
    users = []
    for i in range(1, n + 1):
        user = User(username=f"{prefix}{i}", display_name=f"审批人{i} Approver {i}", email=f"{prefix}{i}@demo.invalid")
        user.set_password(DEMO_PASSWORD)
        user.save()
        Membership.objects.create(user=user, department=department, role=role)
        esign.accept_accountability(user)
        users.append(user)
    return users


def set_rule(people, *, group="members", department="finance", role="manager", needed=None, rejection_ends=True):
    from django.db import transaction

    # (a transaction=True test starts from an empty database: the default rule of migration 0002)
    rule, _ = ApprovalRule.objects.get_or_create(document_type="procedure", defaults={
        "reviewing_departments": PROCEDURE_REVIEWERS, "approver_department": "management", "approver_role": "manager"})
    with transaction.atomic():
        actions.update_approval_rule(rule, actor=people["quality_mgr"], reviewing_departments=PROCEDURE_REVIEWERS,
                                     approver_department=department, approver_role=role, approver_group=group,
                                     approvals_needed=needed, rejection_ends=rejection_ends,
                                     reason="集体审批 group approval")
    return rule


def to_approval(people):
    process = register(people)
    draft(process, people["market"], "A/0")
    review_all(process, people, PROCEDURE_REVIEWERS)
    return process


def approve(process, user, effective=None, meaning=Meaning.APPROVED, reason=""):
    from django.utils import timezone

    date = (effective or timezone.localdate()).isoformat()
    return act(process, "approve", user, {"effective_date": date}, meaning=meaning, reason=reason)


def seats(process):
    return list(Task.objects.filter(process=process, flow_task=DocumentControlFlow.approve).order_by("pk"))


def node_tasks(process, name):
    return list(Task.objects.filter(process=process, flow_task=getattr(DocumentControlFlow, name)))


def revision_of(process):
    from procedures.documents.models import Revision

    return Revision.objects.get(pk=process.data["revision"])


# --- the policy -------------------------------------------------------------------------------------------


def test_the_policy_all_of_n_waits_for_every_approval_and_any_rejection_makes_it_unreachable():
    policy = quorum.Quorum()
    assert policy.decide(2, 0, 3) == quorum.PENDING
    assert policy.decide(3, 0, 3) == quorum.APPROVED
    assert policy.decide(0, 1, 3) == quorum.REJECTED


def test_the_policy_k_of_n_approves_at_k_and_rejects_once_k_is_out_of_reach():
    policy = quorum.Quorum(k=2)
    assert policy.decide(1, 0, 3) == quorum.PENDING
    assert policy.decide(1, 1, 3) == quorum.PENDING, "two can still approve"
    assert policy.decide(2, 1, 3) == quorum.APPROVED
    assert policy.decide(1, 2, 3) == quorum.REJECTED, "only one seat is left: two approvals are out of reach"


def test_the_policy_first_rejection_ends_at_once_even_when_k_is_still_reachable():
    assert quorum.Quorum(k=2, first_rejection=True).decide(1, 1, 5) == quorum.REJECTED
    assert quorum.Quorum(k=2, first_rejection=True).decide(2, 0, 5) == quorum.APPROVED


def test_the_policy_refuses_an_empty_group_a_k_larger_than_the_group_and_a_k_below_one():
    with pytest.raises(WrongState):
        quorum.Quorum().check(0)
    with pytest.raises(WrongState):
        quorum.Quorum(k=4).check(3)
    with pytest.raises(ValueError):
        quorum.Quorum(k=0)


# --- P4: a group approves a procedure -----------------------------------------------------------------------


@pytest.mark.django_db
def test_all_of_n_the_revision_is_approved_only_after_the_last_signature(people):
    approvers = make_approvers(3)
    set_rule(people)
    process = to_approval(people)
    assert sorted(t.owner.username for t in seats(process)) == ["fin_mgr1", "fin_mgr2", "fin_mgr3"]
    assert all(t.status == STATUS.ASSIGNED for t in seats(process)), "each seat is assigned to its approver"
    approve(process, approvers[0])
    approve(process, approvers[1])
    assert revision_of(process).status == RevisionStatus.IN_REVIEW
    assert not node_tasks(process, "wait_until_effective") and node_tasks(process, "approvals_done")[0].status != "DONE"
    assert quorum.outcome(process, "approve").status == quorum.PENDING
    approve(process, approvers[2])
    revision = revision_of(process)
    assert revision.status == RevisionStatus.APPROVED and revision.approved_by == approvers[2]
    assert [t.status for t in node_tasks(process, "approvals_done")] == [STATUS.DONE]
    assert len(node_tasks(process, "wait_until_effective")) == 1
    result = quorum.outcome(process, "approve")
    assert result.approved and [s["name"] for s in result.approvers] == [u.printed_name for u in approvers]
    assert RevisionApproval.objects.filter(revision=revision, approved=True).count() == 3
    assert Signature.objects.filter(record_version__record=revision.record, meaning="approved").count() == 3
    # the version the last approver signed shows every approval
    version = revision.record.get_version()
    assert version.reason == "approved"
    assert [a["approver"] for a in version.data["approvals"]] == [u.printed_name for u in approvers]
    decided = AuditEntry.objects.get(action="quorum.decided", process_id=process.pk)
    assert decided.new_values["status"] == "approved" and len(decided.new_values["signed"]) == 3
    from forms.pdf import render_html

    html = render_html(version)
    assert "会签批准 Group approval" in html and all(u.printed_name in html for u in approvers)


@pytest.mark.django_db
def test_k_of_n_approves_at_the_kth_signature_and_cancels_the_rest_out_of_every_inbox(people):
    approvers = make_approvers(4)
    set_rule(people, needed=2)
    process = to_approval(people)
    approve(process, approvers[0])
    assert revision_of(process).status == RevisionStatus.IN_REVIEW
    approve(process, approvers[1])
    assert revision_of(process).status == RevisionStatus.APPROVED
    by_owner = {t.owner.username: t for t in seats(process)}
    assert [by_owner[f"fin_mgr{i}"].status for i in (1, 2, 3, 4)] == [
        STATUS.DONE, STATUS.DONE, STATUS.CANCELED, STATUS.CANCELED]
    assert len(node_tasks(process, "wait_until_effective")) == 1
    for late in approvers[2:]:
        client = APIClient()
        client.force_authenticate(late)
        assert client.get("/api/tasks/").json()["results"] == [], "a cancelled seat leaves the inbox"
        task = by_owner[late.username]
        response = client.post(f"/api/tasks/{task.pk}/complete/", {
            "data": {"effective_date": revision_of(process).effective_date.isoformat()},
            "signature": {"username": late.username, "password": DEMO_PASSWORD, "meaning": "approved"}},
            format="json")
        assert response.status_code == 409
        cancelled = AuditEntry.objects.get(action="task.cancelled", object_id=str(task.pk))
        assert cancelled.reason == "quorum reached" and cancelled.new_values["outcome"] == "approved"
        assert AuditEntry.objects.filter(action="task.status_changed", object_id=str(task.pk),
                                         new_values__status=STATUS.CANCELED).exists()
    assert RevisionApproval.objects.count() == 2


@pytest.mark.django_db
def test_the_effective_date_of_a_group_approval_is_the_latest_date_an_approver_chose(people):
    import datetime

    from django.utils import timezone

    approvers = make_approvers(2)
    set_rule(people)
    process = to_approval(people)
    later = timezone.localdate() + datetime.timedelta(days=14)
    approve(process, approvers[0], effective=later)
    approve(process, approvers[1])
    assert revision_of(process).effective_date == later


@pytest.mark.django_db
def test_the_first_rejection_ends_the_approval_at_once_and_returns_the_draft_to_its_author(people):
    approvers = make_approvers(4)
    set_rule(people, needed=2, rejection_ends=True)
    process = to_approval(people)
    approve(process, approvers[0], meaning=Meaning.REJECTED, reason="范围不清 scope unclear")
    assert revision_of(process).status == RevisionStatus.DRAFT
    assert [t.status for t in seats(process)].count(STATUS.CANCELED) == 3
    assert [t.flow_task.name for t in open_tasks(process, "edit")] == ["edit"]
    assert quorum.outcome(process, "approve").rejected
    assert AuditEntry.objects.filter(action="task.cancelled", process_id=process.pk, reason="quorum reached").count() == 3
    assert revision_of(process).record.get_version().reason == "rejected: 范围不清 scope unclear"


@pytest.mark.django_db
def test_when_k_can_no_longer_be_reached_the_approval_ends_as_rejected(people):
    approvers = make_approvers(4)
    set_rule(people, needed=3, rejection_ends=False)
    process = to_approval(people)
    approve(process, approvers[0])
    approve(process, approvers[1], meaning=Meaning.REJECTED, reason="缺少附件 attachment missing")
    assert revision_of(process).status == RevisionStatus.IN_REVIEW, "3 of the 4 can still approve"
    assert len(open_tasks(process, "approve")) == 2
    approve(process, approvers[2], meaning=Meaning.REJECTED, reason="同意上面 agree with the above")
    assert revision_of(process).status == RevisionStatus.DRAFT, "only 2 approvals remain possible"
    assert open_tasks(process, "approve") == []
    assert [t.flow_task.name for t in open_tasks(process, "edit")] == ["edit"]
    # the next round asks the group again, with fresh seats
    draft(process, people["market"], "A/0 fixed")
    review_all(process, people, PROCEDURE_REVIEWERS)
    assert len(open_tasks(process, "approve")) == 4
    for user in approvers[:3]:
        approve(process, user)
    assert revision_of(process).status == RevisionStatus.APPROVED


@pytest.mark.django_db
def test_a_signer_cannot_sign_twice(people):
    approvers = make_approvers(3)
    set_rule(people, needed=3)
    process = to_approval(people)
    first = approve(process, approvers[0])
    node = first.flow_task
    form = node.make_form(data={"effective_date": "2099-01-01"}, api=True, activation=node.activation_class(first),
                          user=approvers[0])
    with pytest.raises(WrongState):
        engine.complete_step(first, actor=approvers[0], form=form,
                            signature_input=engine.SignatureInput(password=DEMO_PASSWORD, meaning="approved"))
    # nor take another approver's seat
    other = next(t for t in open_tasks(process, "approve") if t.owner_id == approvers[1].pk)
    assert not node.can_assign(approvers[0], other)
    assert RevisionApproval.objects.filter(approver=approvers[0]).count() == 1


@pytest.mark.django_db
def test_a_manager_of_two_distribution_departments_gets_one_seat_and_the_author_none(people):
    from django.utils import timezone

    Membership.objects.create(user=people["production_mgr"], department="market", role="manager")
    set_rule(people, group="distribution_managers", department="management", role="manager")
    process = register(people, distribution=["market", "production", "quality"])
    Membership.objects.create(user=people["market"], department="quality", role="manager")  # the author
    draft(process, people["market"], "A/0")
    review_all(process, people, PROCEDURE_REVIEWERS)
    owners = sorted(t.owner.username for t in open_tasks(process, "approve"))
    assert owners == ["market_mgr", "production_mgr", "quality_mgr"]
    for name in owners:
        act(process, "approve", people[name], {"effective_date": timezone.localdate().isoformat()},
            meaning="approved")
    assert revision_of(process).status == RevisionStatus.APPROVED


@pytest.mark.django_db
def test_a_rule_needing_more_approvals_than_the_group_has_is_refused_with_nothing_saved(people):
    make_approvers(2)
    rule = ApprovalRule.objects.get(document_type="procedure")
    client = APIClient()
    client.force_authenticate(people["quality_mgr"])
    response = client.patch(f"/api/approval-rules/{rule.pk}/", {
        "approver_group": "members", "approver_department": "finance", "approvals_needed": 3,
        "reason": "三人审批 three approvers"}, format="json")
    assert response.status_code == 400 and "approvals_needed" in response.json()["errors"]
    rule.refresh_from_db()
    assert (rule.approver_group, rule.approvals_needed) == ("role", None)
    assert not AuditEntry.objects.filter(action="document.approval_rule_changed").exists()


# --- P2: the disposition sign-offs are a quorum seat each ----------------------------------------------------


def gm_holding_both_disposition_seats(people, monkeypatch):
    """A P2 disposition (a concession and a return) waiting for its two sign-offs, management's and materials',
    with the general manager a member of both: (the process, {signer role: its seat})."""
    from viewflow.workflow.models import Process

    from p2_support import disposition, p2_drivers, skip_rendering, walk_to_disposition
    from procedures.complaints.flows import ComplaintFlow

    skip_rendering(monkeypatch)
    Membership.objects.create(user=people["gm"], department="materials", role="staff")
    drive = p2_drivers()["api"]()
    pid = walk_to_disposition(drive)
    assert drive.do("quality_mgr", pid, "dispose", disposition(("concession", "100"), ("return_to_supplier", "20")),
                    meaning="approved") == 200
    seat = {t.data["signer"]: t for t in Task.objects.filter(process_id=pid, flow_task=ComplaintFlow.sign_disposition)}
    return Process.objects.get(pk=pid), seat


@pytest.mark.django_db
def test_p2_a_person_holding_two_signer_roles_signs_only_one_seat(people, monkeypatch):
    from drivers import open_steps

    process, seat = gm_holding_both_disposition_seats(people, monkeypatch)
    pid = process.pk
    assert seat["management:manager"].data["quorum"]["n"] == 2
    act(process, "sign_disposition", people["gm"], {}, meaning="approved", task=seat["management:manager"])
    with pytest.raises(NotPermitted):
        engine.claim_task(seat["materials:staff"], actor=people["gm"])
    act(process, "sign_disposition", people["materials"], {}, meaning="approved", task=seat["materials:staff"])
    assert "sign_disposition" not in open_steps(pid)


@pytest.mark.django_db
def test_p2_a_second_seat_claimed_before_the_first_signature_is_refused_when_signed(people, monkeypatch):
    """The claim let both seats through (nothing was signed yet); the completion's check under the flow lock
    refuses the second signature (before the lock the round is not read: the lock reads it again)."""
    process, seat = gm_holding_both_disposition_seats(people, monkeypatch)
    for task in seat.values():
        engine.claim_task(task, actor=people["gm"])
    act(process, "sign_disposition", people["gm"], {}, meaning="approved", task=seat["management:manager"])
    second = seat["materials:staff"]
    second.refresh_from_db()
    signatures = Signature.objects.count()
    form = second.flow_task.make_form(data={}, api=True, activation=second.flow_task.activation_class(second),
                                      user=people["gm"])
    with pytest.raises(NotPermitted) as refused:
        engine.complete_step(second, actor=people["gm"], form=form,
                             signature_input=engine.SignatureInput(password=DEMO_PASSWORD, meaning="approved"))
    assert refused.value.message == gettext("You have already signed in this round; another person must sign this one.")
    second.refresh_from_db()
    assert second.status == STATUS.ASSIGNED and Signature.objects.count() == signatures


@pytest.mark.django_db
def test_p2_a_rejection_cancels_the_open_signature_audited_as_quorum_reached(people, monkeypatch):
    from p2_support import disposition, p2_drivers, skip_rendering, walk_to_disposition

    skip_rendering(monkeypatch)
    drive = p2_drivers()["api"]()
    pid = walk_to_disposition(drive)
    assert drive.do("quality_mgr", pid, "dispose", disposition(("concession", "100"), ("return_to_supplier", "20")),
                    meaning="approved") == 200
    assert drive.do("gm", pid, "sign_disposition", {}, meaning="rejected", reason="不可接受 not acceptable") == 200
    from procedures.complaints.flows import ComplaintFlow

    cancelled = Task.objects.get(process_id=pid, flow_task=ComplaintFlow.sign_disposition, status=STATUS.CANCELED)
    assert cancelled.data["signer"] == "materials:staff"
    entry = AuditEntry.objects.get(action="task.cancelled", object_id=str(cancelled.pk))
    assert entry.reason == "quorum reached" and entry.new_values["outcome"] == "rejected"


# --- PostgreSQL: 20 approvers at the same moment ---------------------------------------------------------------


RESUBMITS = 8


def sign_at_once(process, approvers):
    """Every approver completes their seat in their own thread at the same moment; a
    completion refused because the process is locked is submitted again, as a person
    would. Returns {username: "signed" | "cancelled"} and the number of resubmissions."""
    from django.utils import timezone

    barrier = threading.Barrier(len(approvers))
    results, resubmitted = {}, []
    task_of = {t.owner_id: t.pk for t in open_tasks(process, "approve")}
    date = timezone.localdate().isoformat()

    def work(user):
        try:
            barrier.wait(timeout=30)
            for attempt in range(RESUBMITS + 1):
                task = Task.objects.get(pk=task_of[user.pk])
                node = task.flow_task
                form = node.make_form(data={"effective_date": date}, api=True, activation=node.activation_class(task),
                                      user=user)
                try:
                    engine.complete_step(task, actor=user, form=form, signature_input=engine.SignatureInput(
                        password=DEMO_PASSWORD, meaning="approved"))
                    results[user.username] = "signed"
                    return
                except WrongState as error:
                    if error.current_state == STATUS.CANCELED:
                        results[user.username] = "cancelled"
                        return
                    if attempt == RESUBMITS:
                        raise
                    resubmitted.append(user.username)
                    time.sleep(0.1)
        except BaseException as exc:  # reported to the test thread
            results[user.username] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(user,), daemon=True) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running (deadlock?)"
    return results, len(resubmitted)


def assert_moved_on_once(process):
    assert [t.status for t in node_tasks(process, "approvals_done")] == [STATUS.DONE]
    assert [t.status for t in node_tasks(process, "approval_outcome")] == [STATUS.DONE]
    assert len(node_tasks(process, "wait_until_effective")) == 1
    assert not node_tasks(process, "edit") or all(t.status == STATUS.DONE for t in node_tasks(process, "edit"))
    assert AuditEntry.objects.filter(action="quorum.decided", process_id=process.pk).count() == 1
    assert AuditEntry.objects.filter(action="document.decided", process_id=process.pk).count() == 1
    counts, problems, warnings = verify_all()
    assert problems == [], problems


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="concurrency needs PostgreSQL (row locks, real parallel writers)")
@pytest.mark.django_db(transaction=True)
def test_twenty_approvers_signing_at_once_complete_the_step_exactly_once(people):
    approvers = make_approvers(20)
    set_rule(people)
    process = to_approval(people)
    results, resubmitted = sign_at_once(process, approvers)
    assert results == {u.username: "signed" for u in approvers}, results
    assert revision_of(process).status == RevisionStatus.APPROVED
    assert RevisionApproval.objects.filter(approved=True).count() == 20
    assert_moved_on_once(process)
    print(f"\n[quorum] 20 simultaneous approvals (all of 20), {resubmitted} resubmitted after the lock was busy")


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="concurrency needs PostgreSQL (row locks, real parallel writers)")
@pytest.mark.django_db(transaction=True)
def test_twenty_approvers_signing_at_once_with_five_needed_stop_at_exactly_five(people):
    approvers = make_approvers(20)
    set_rule(people, needed=5)
    process = to_approval(people)
    results, resubmitted = sign_at_once(process, approvers)
    assert sorted(set(map(str, results.values()))) == ["cancelled", "signed"], results
    assert list(results.values()).count("signed") == 5
    assert RevisionApproval.objects.count() == 5
    statuses = [t.status for t in seats(process)]
    assert statuses.count(STATUS.DONE) == 5 and statuses.count(STATUS.CANCELED) == 15
    assert AuditEntry.objects.filter(action="task.cancelled", reason="quorum reached").count() == 15
    assert_moved_on_once(process)
    print(f"\n[quorum] 20 simultaneous approvals (5 of 20), {resubmitted} resubmitted after the lock was busy")


def test_a_single_approver_signs_in_the_role_the_approval_was_asked_of(people):
    """The approval matrix names one approver's role (a queue seat); the seat records the department it asks, and
    the signature names that one even when the Quality manager changes the matrix while the approval waits (as a
    quorum's policy is fixed when its round starts). No read of the matrix while signing (issue 15.4)."""
    from accounts.models import department_label

    set_rule(people, group="role", department="management", role="manager")
    process = to_approval(people)
    [seat] = seats(process)
    assert seat.data["department"] == "management" and not seat.data.get("user")
    set_rule(people, group="role", department="quality", role="manager")  # changed while the approval waits
    approve(process, people["gm"])
    signature = Signature.objects.filter(signer=people["gm"]).latest("signed_at")
    assert signature.role == department_label("management") and signature.meaning == Meaning.APPROVED
    assert revision_of(process).status == RevisionStatus.APPROVED


def test_a_join_its_only_seat_completes_is_written_once_already_done(people):
    """workflows.gateways: a round of one seat reaches its join and completes it in the same step; the join task
    is inserted once, already DONE, and linked to the seat (viewflow inserts it, then updates it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    set_rule(people, group="role", department="management", role="manager")
    process = to_approval(people)
    [seat] = seats(process)
    with CaptureQueriesContext(connection) as queries:
        approve(process, people["gm"])
    [join] = node_tasks(process, "approvals_done")
    assert join.status == STATUS.DONE and join.started and join.finished
    assert list(join.previous.all()) == [seat]
    task_writes = ('INSERT INTO "viewflow_task"', 'UPDATE "viewflow_task"')
    writes = [q["sql"] for q in queries.captured_queries
              if "approvals_done" in q["sql"] and q["sql"].startswith(task_writes)]
    assert len(writes) == 1 and writes[0].startswith("INSERT"), writes
    assert Task.objects.filter(process=process, previous=join).exists()  # the flow went on from it
    assert revision_of(process).status == RevisionStatus.APPROVED
