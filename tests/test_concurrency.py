"""Concurrency on PostgreSQL: two people claiming one task, five department reviews
completed at the same moment, orders started at once, and the audit chain under
concurrent appends.

Every thread has its own database connection (Django's connections are per
thread) and closes it when done; a Barrier releases the threads together. The
tests commit for real (transaction=True) so the threads see each other's data.
"""
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from viewflow.workflow import lock
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from accounts.models import Department, Membership, Role, User
from core import audit
from core.errors import WrongState
from core.models import AuditEntry, Meaning, Record, Signature
from procedures.order_review.models import DepartmentReview
from p1_driver import REVIEW_STEPS, open_task, sign, start
from workflows import actions
from procedures.order_review.models import order_review_of
from procedures.order_review.flows import OrderReviewFlow

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="concurrency needs PostgreSQL (row locks, real parallel writers)"),
    pytest.mark.django_db(transaction=True),
]

THREAD_TIMEOUT = 120
RESUBMITS = 5  # a user whose submission hit FlowLockFailed submits again, at most this often


# --- threads ---------------------------------------------------------------------------------------


def run_at_once(jobs):
    """Run each job's `prepare()` in its own thread, then its `act(prepared)` in all
    threads at the same moment. Returns [("ok", value) | ("error", exception)] in
    job order. Each thread closes its own database connection."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def work(index, prepare, act):
        try:
            prepared = prepare()
            barrier.wait(timeout=30)
            results[index] = ("ok", act(prepared))
        except BaseException as exc:  # reported to the test thread
            results[index] = ("error", exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, prepare, act), daemon=True)
               for i, (prepare, act) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running (deadlock?)"
    return results


def errors(results):
    return [value for outcome, value in results if outcome == "error"]


# --- the scenarios -----------------------------------------------------------------------------------


def review_data(department):
    from procedures.order_review.seed import review_answers  # each requirement category answered (REQ-2)

    return {**review_answers(department), "verdict": "can_meet", "comment": ""}


def complete_reviews_at_once(process, people):
    """Claim the five reviews one after the other, then complete them in five threads
    at once. A completion that fails on the flow lock is submitted again, as a user
    would. Returns the number of resubmissions."""
    for department, step in REVIEW_STEPS.items():
        actions.claim_task(open_task(process, step), actor=people[department])
    task_pks = {department: open_task(process, step).pk for department, step in REVIEW_STEPS.items()}
    resubmitted = []

    def job(department):
        def prepare():
            return User.objects.get(pk=people[department].pk), task_pks[department]

        def act(prepared):
            user, task_pk = prepared
            for attempt in range(RESUBMITS + 1):
                task = Task.objects.get(pk=task_pk)
                node = task.flow_task
                form = node.make_form(data=review_data(department), api=True,
                                      activation=node.activation_class(task), user=user)
                try:
                    return actions.complete_step(task, actor=user, form=form, signature_input=sign(Meaning.REVIEWED))
                except FlowLockFailed:
                    if attempt == RESUBMITS:
                        raise
                    resubmitted.append(department)
                    time.sleep(0.2)
        return prepare, act

    results = run_at_once([job(department) for department in REVIEW_STEPS])
    assert not errors(results), errors(results)
    return len(resubmitted)


def assert_reviews_joined_once(process):
    def tasks(node):
        return Task.objects.filter(process=process, flow_task=node)

    for step in REVIEW_STEPS.values():
        assert list(tasks(getattr(OrderReviewFlow, step)).values_list("status", flat=True)) == [STATUS.DONE]
    assert list(tasks(OrderReviewFlow.reviews_done).values_list("status", flat=True)) == [STATUS.DONE]
    assert list(tasks(OrderReviewFlow.route_verdicts).values_list("status", flat=True)) == [STATUS.DONE]
    assert list(tasks(OrderReviewFlow.approve).values_list("status", flat=True)) == [STATUS.NEW]
    assert not tasks(OrderReviewFlow.negotiate).exists()
    review = order_review_of(process)
    assert DepartmentReview.objects.filter(round__order_review=review).count() == 5  # Market's own review too
    assert Signature.objects.filter(record_version__record=review.record, meaning=Meaning.REVIEWED).count() == 5


# --- tests ---------------------------------------------------------------------------------------------


def test_two_users_claiming_the_same_task_at_once_exactly_one_succeeds(people, order_data):
    # Quality now has two people who may claim the review (a manager is also staff).
    assert Membership.objects.filter(user=people["quality_mgr"], department=Department.QUALITY,
                                     role=Role.MANAGER).exists()
    process = start(people["market"], order_data())
    task_pk = open_task(process, "review_quality").pk
    claimants = ["quality", "quality_mgr"]

    def job(username):
        def prepare():
            return User.objects.get(username=username), Task.objects.get(pk=task_pk)

        def act(prepared):
            user, task = prepared
            return actions.claim_task(task, actor=user).owner_id
        return prepare, act

    results = run_at_once([job(username) for username in claimants])

    winners = [claimants[i] for i, (outcome, _) in enumerate(results) if outcome == "ok"]
    losers = errors(results)
    assert len(winners) == 1, results
    # The loser is told the task is taken (409), never that the lock failed (500).
    assert len(losers) == 1 and type(losers[0]) is WrongState, repr(losers)
    assert losers[0].current_state == STATUS.ASSIGNED
    task = Task.objects.get(pk=task_pk)
    assert task.status == STATUS.ASSIGNED
    assert task.owner == people[winners[0]]
    assert AuditEntry.objects.filter(action="task.assigned", object_id=str(task_pk)).count() == 1
    assert list(audit.verify_chain()) == []


def test_an_action_that_cannot_get_the_flow_lock_is_refused_as_wrong_state_not_a_server_error(
        people, order_data, monkeypatch):
    """When the process stays locked past viewflow's retries (a long job or a slow
    transaction on the same process), the user is told to try again (WrongState, 409)
    instead of getting a 500 from viewflow's FlowLockFailed (workflows/actions.py translates it)."""
    from api_driver import client_for

    monkeypatch.setattr(lock.select_for_update_lock, "attempts", 1)  # no back-off sleeps: fail at once
    process = start(people["market"], order_data())
    actions.claim_task(open_task(process, "review_quality"), actor=people["quality"])
    quality_task = open_task(process, "review_quality")
    production_task = open_task(process, "review_production")
    production = client_for("production")
    production.raise_request_exception = False
    locked, release = threading.Event(), threading.Event()

    def hold_the_process_lock():
        try:
            with transaction.atomic():
                Process.objects.select_for_update().filter(pk=process.pk).exists()
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_process_lock, daemon=True)
    holder.start()
    try:
        assert locked.wait(10)
        response = production.post(f"/api/tasks/{production_task.pk}/claim/")
        assert response.status_code == 409, (response.status_code, response.content[:300])
        node = quality_task.flow_task
        form = node.make_form(data=review_data("quality"), api=True, activation=node.activation_class(quality_task),
                              user=people["quality"])
        with pytest.raises(WrongState):
            actions.complete_step(quality_task, actor=people["quality"], form=form,
                                signature_input=sign(Meaning.REVIEWED))
    finally:
        release.set()
        holder.join(30)
    # nothing changed, and once the lock is free the same requests go through
    assert Task.objects.get(pk=production_task.pk).status == STATUS.NEW
    assert Task.objects.get(pk=quality_task.pk).status == STATUS.ASSIGNED
    assert production.post(f"/api/tasks/{production_task.pk}/claim/").status_code == 200


def test_parallel_reviews_completing_at_once_fire_the_join_exactly_once(people, order_data):
    resubmitted = 0
    for i in range(3):
        process = start(people["market"], order_data(number=f"PO-PAR-{i}"))
        resubmitted += complete_reviews_at_once(process, people)
        assert_reviews_joined_once(process)
    print(f"\n[parallel reviews] 3 processes × 5 simultaneous completions, {resubmitted} resubmitted after "
          f"FlowLockFailed")


def test_record_numbers_stay_gap_free_under_concurrent_starts(people, order_data):
    node = OrderReviewFlow.start

    def job(i):
        def prepare():
            return User.objects.get(username="market"), order_data(number=f"PO-CONC-{i}")

        def act(prepared):
            user, data = prepared
            process = actions.start_process(node, actor=user, form=node.make_form(data=data, api=True, user=user))
            return Record.objects.get(process=process).number
        return prepare, act

    results = run_at_once([job(i) for i in range(6)])
    assert not errors(results), errors(results)
    year = timezone.localdate().year
    assert sorted(number for _, number in results) == [f"OR-{year}-{n:04d}" for n in range(1, 7)]
    assert Record.objects.filter(record_type="order_review").count() == 6


def test_concurrent_audit_appends_keep_the_chain_intact(people, order_data):
    process = start(people["market"], order_data())
    complete_reviews_at_once(process, people)
    assert_reviews_joined_once(process)
    # and concurrent starts and claims on top
    node = OrderReviewFlow.start

    def starter(i):
        def prepare():
            return User.objects.get(username="market2"), order_data(number=f"PO-CHAIN-{i}")

        def act(prepared):
            user, data = prepared
            return actions.start_process(node, actor=user, form=node.make_form(data=data, api=True, user=user)).pk
        return prepare, act

    results = run_at_once([starter(i) for i in range(4)])
    assert not errors(results), errors(results)
    started = [pk for _, pk in results]

    def claimer(pid, department):
        def prepare():
            return User.objects.get(pk=people[department].pk), open_task(pid, REVIEW_STEPS[department])

        def act(prepared):
            user, task = prepared
            return actions.claim_task(task, actor=user).pk
        return prepare, act

    results = run_at_once([claimer(pid, department) for pid in started for department in REVIEW_STEPS])
    assert not errors(results), errors(results)

    assert list(audit.verify_chain()) == []
    entries = AuditEntry.objects.order_by("seq")
    assert list(entries.values_list("seq", flat=True)) == list(range(1, entries.count() + 1))


def test_the_flow_lock_is_taken_by_the_statement_that_rereads_the_task(people, order_data):
    """inbox.queues.task_lock: the row lock viewflow takes on the process (the one its own pages take, which
    the test above holds) is taken by the statement that re-reads the task with its process: one statement."""
    from django.test.utils import CaptureQueriesContext

    process = start(people["market"], order_data(number="PO-LOCK-1"))
    task = open_task(process, "review_quality")
    with CaptureQueriesContext(connection) as queries:
        actions.claim_task(task, actor=people["quality"])
    locking = [q["sql"] for q in queries.captured_queries
               if "FOR UPDATE" in q["sql"] and "core_audithead" not in q["sql"]]  # the audit batch's own lock
    assert len(locking) == 1, locking
    assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT 1 AS "a" FROM "viewflow_process"')]
    assert 'FROM "viewflow_task" INNER JOIN "viewflow_process"' in locking[0]
    assert locking[0].endswith('FOR UPDATE OF "viewflow_task", "viewflow_process" NOWAIT')
    assert f'"viewflow_task"."id" = {task.pk}' in locking[0]
    assert Task.objects.get(pk=task.pk).owner_id == people["quality"].pk


def test_two_quality_managers_correcting_one_record_at_once_add_one_rendition(people, settings, tmp_path):
    """Both find the record's PDFs misread by Acrobat and ask for a corrected rendering at the same moment: the
    record's row lock lets one render rendition 2 of both files; the other waits, then finds them corrected and
    is told so (WrongState "correct"). No rendition 3, no file left behind by the one refused."""
    from evidence import renditions
    from test_pdf import make_record, order_data
    from test_pdf_renditions import stored_as_first_cut

    settings.MEDIA_ROOT = tmp_path / "media"
    version = make_record(order_data())
    stored_as_first_cut(version)
    second = User.objects.create_user("quality_mgr_2", password="pw-Quality-2026")
    Membership.objects.create(user=second, department=Department.QUALITY, role=Role.MANAGER)

    def correct(user):
        return lambda _prepared: [(f.kind, f.rendition) for f in renditions.add_corrected_rendition(
            version, actor=User.objects.get(pk=user.pk), reason="字体编号错误 Fonts misnumbered")]

    results = run_at_once([(lambda: None, correct(people["quality_mgr"])), (lambda: None, correct(second))])
    added = [value for outcome, value in results if outcome == "ok"]
    assert added == [[("pdf", 2), ("pdfa", 2)]], results
    [refusal] = errors(results)
    assert isinstance(refusal, WrongState) and refusal.current_state == "correct", refusal
    files = sorted((f.kind, f.rendition) for f in version.files.all())
    assert files == [("pdf", 1), ("pdf", 2), ("pdfa", 1), ("pdfa", 2)]
    stored = sorted(p.relative_to(settings.MEDIA_ROOT).as_posix() for p in settings.MEDIA_ROOT.rglob("*.pdf"))
    assert stored == sorted(f.file.name for f in version.files.all())
    assert AuditEntry.objects.filter(action="record.rendered", new_values__rendition=2).count() == 2
