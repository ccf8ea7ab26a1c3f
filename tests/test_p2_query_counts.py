"""N+1 guard for P2: the task lists (inbox, queue — API and browser) and the record
lists (API and browser) cost the same number of SQL queries with 60 and with 1,000
complaint cases in the database.

The measured user (Quality staff) has MINE real cases waiting for inspection, CLAIMED
of them in their inbox. Every other case is a bulk clone of a real one (process,
tasks, feedback-form record, case row) whose inspection is claimed by someone else, so
the database grows while the user's inbox and queue stay the same size, and every
record-list page is full. Each measurement runs in a savepoint that is rolled back;
a first, discarded run warms Django's caches. Run with -s to see the figures."""
import difflib
import re

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from api_driver import client_for
from core.models import Record
from flow_driver import open_tasks, start
from procedures.complaints.models import ComplaintCase
from p2_support import FLOW, intake, web_base
from test_query_counts import _shape
from workflows import actions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_pdfs(monkeypatch):
    from p2_support import skip_rendering

    skip_rendering(monkeypatch)

USER = "quality"
MINE = 7
CLAIMED = 5
SIZES = (60, 1000)  # both fill a records page (50)


@pytest.fixture
def world(people):
    processes = [start(FLOW, "start", people["market"], intake(lot=f"L-QC-{i:03d}")) for i in range(MINE)]
    for process in processes[:CLAIMED]:
        actions.claim_task(open_tasks(process, "inspect")[0], actor=people[USER])
    return {"people": people, "processes": processes, "template": processes[-1]}


def add_other_cases(template, count, owner):
    """`count` more cases like `template` (process, tasks, record, case), in bulk; their
    inspection is claimed by `owner`, so the measured user's lists do not change."""
    if count <= 0:
        return
    tasks = list(Task.objects.filter(process=template).order_by("pk"))
    case = ComplaintCase.objects.get(record__process=template)
    record = case.record
    skip = {"id", "number", "process_id"}
    process_fields = [f.attname for f in Process._meta.concrete_fields if f.attname != "id"]
    task_fields = [f.attname for f in Task._meta.concrete_fields if f.attname not in ("id", "process_id")]
    record_fields = [f.attname for f in Record._meta.concrete_fields if f.attname not in skip]
    case_fields = [f.attname for f in ComplaintCase._meta.concrete_fields if f.attname not in ("id", "record_id")]
    clones = Process.objects.bulk_create(
        [Process(**{f: getattr(template, f) for f in process_fields}) for _ in range(count)], batch_size=500)
    new_tasks, new_records = [], []
    for clone in clones:
        for task in tasks:
            copy = Task(process=clone, **{f: getattr(task, f) for f in task_fields})
            if task.flow_task == FLOW.inspect:
                copy.owner_id, copy.status = owner.pk, STATUS.ASSIGNED
            new_tasks.append(copy)
        new_records.append(Record(process=clone, number=f"QF-BULK-{clone.pk:06d}",
                                  **{f: getattr(record, f) for f in record_fields}))
    Task.objects.bulk_create(new_tasks, batch_size=1000)
    new_records = Record.objects.bulk_create(new_records, batch_size=500)
    ComplaintCase.objects.bulk_create([ComplaintCase(record=r, **{f: getattr(case, f) for f in case_fields})
                                       for r in new_records], batch_size=500)


def measure(world, size, action):
    with transaction.atomic():
        add_other_cases(world["template"], size - MINE, owner=world["people"]["quality_mgr"])
        assert ComplaintCase.objects.count() == size
        with CaptureQueriesContext(connection) as ctx:
            action()
        transaction.set_rollback(True)
    print(f"  {size:>5} cases: {len(ctx.captured_queries):>3} queries")
    return [q["sql"] for q in ctx.captured_queries]


def assert_same_query_count(world, label, action):
    print(f"\n{label}")
    measure(world, SIZES[0], action)  # warms the caches
    small, large = (measure(world, size, action) for size in SIZES)
    if len(small) != len(large):
        print("\n".join(difflib.unified_diff([_shape(q) for q in small], [_shape(q) for q in large], lineterm="")))
    assert len(small) == len(large), \
        f"{label}: {len(small)} queries with {SIZES[0]} cases, {len(large)} with {SIZES[1]}"


def test_api_task_lists_cost_the_same_with_60_and_1000_cases(world):
    client = client_for(USER)

    def listing(url, expected):
        def get():
            response = client.get(url)
            assert response.status_code == 200
            assert len([t for t in response.json()["results"] if t["step"] == "inspect"]) == expected
        return get

    assert_same_query_count(world, "GET /api/tasks/ (inbox)", listing("/api/tasks/", CLAIMED))
    assert_same_query_count(world, "GET /api/tasks/?queue=1 (queue)", listing("/api/tasks/?queue=1", MINE - CLAIMED))


def test_browser_task_lists_cost_the_same_with_60_and_1000_cases(world):
    client = Client()
    client.force_login(world["people"][USER])
    mine = {p.pk for p in world["processes"]}
    pattern = re.escape(web_base()).encode() + rb"/(\d+)/inspect/\d+/"

    def page(url, expected):
        def get():
            response = client.get(url)
            assert response.status_code == 200
            shown = {int(pid) for pid in re.findall(pattern, response.content)}
            assert shown <= mine and len(shown) == expected, shown
        return get

    assert_same_query_count(world, "GET /qms/inbox/", page("/qms/inbox/", CLAIMED))
    assert_same_query_count(world, "GET /qms/queue/", page("/qms/queue/", MINE - CLAIMED))


def test_record_lists_cost_the_same_with_60_and_1000_cases(world):
    client = client_for(USER)
    browser = Client()
    browser.force_login(world["people"][USER])

    def api(url):
        def get():
            response = client.get(url)
            assert response.status_code == 200 and len(response.json()["results"]) == 50
        return get

    def page(url):
        def get():
            response = browser.get(url)
            assert response.status_code == 200 and response.content.count(b"/qms/records/QF-") == 50
        return get

    assert_same_query_count(world, "GET /api/records/?type=quality_feedback",
                            api("/api/records/?type=quality_feedback"))
    assert_same_query_count(world, "GET /api/records/?lot=L-QC", api("/api/records/?lot=L-QC"))
    assert_same_query_count(world, "GET /qms/records/?type=quality_feedback",
                            page("/qms/records/?type=quality_feedback"))


# --- signed steps: exact query counts (issue 15 item 4; the harness is test_query_counts.signed_step_queries) ------

from test_query_counts import signed_step_queries  # noqa: F401  (fixture)


def _walk(runs, until, drive_step):
    from p2_support import p2_drivers, walk_to_disposition

    for run in range(2):
        runs["armed"] = run == 1
        drive = p2_drivers()["api"]()
        drive_step(drive, run, walk_to_disposition)


def test_a_signed_judgement_costs_a_fixed_number_of_queries(people, signed_step_queries):  # noqa: F811
    from p2_support import inspection, judgement

    # through the API the signer's memberships come with the user's read (core.access.read_user): 23 before
    measured = signed_step_queries("judge", 22)

    def step(drive, run, _walk_to):
        pid = drive.start("market", intake(lot=f"L-SQ-J{run}"))
        assert drive.do("quality", pid, "inspect", inspection(), meaning="authored") == 200
        assert drive.do("quality_mgr", pid, "judge", judgement(True), meaning="reviewed") == 200, \
            drive.last_response.content[:3000]
    _walk(measured, "judge", step)
    assert measured["judge"] == 1


def test_a_signed_disposition_costs_a_fixed_number_of_queries(people, signed_step_queries):  # noqa: F811
    from p2_support import disposition

    # through the API the signer's memberships come with the user's read (core.access.read_user): 25 before
    measured = signed_step_queries("dispose", 24)

    def step(drive, run, walk_to_disposition):
        pid = walk_to_disposition(drive)
        assert drive.do("quality_mgr", pid, "dispose", disposition(("rework", "120")), meaning="approved") == 200, \
            drive.last_response.content[:3000]
    _walk(measured, "dispose", step)
    assert measured["dispose"] == 1
