"""P3 role matrix: who may raise a corrective action, act on each step, and see it
(department members and the case's 8D team; outsiders are refused). Each role's request
runs in a savepoint that is rolled back (see test_role_matrix.check); the cases are made once for the module."""
import pytest
from django.test import Client
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.models import User
from flow_driver import act, start
from procedures.capa.models import CapaCase
from p3_support import (
    FLOW,
    containment_data,
    describe_data,
    plan_data,
    prevention_data,
    raise_data,
    root_cause_data,
    skip_rendering,
    validation_data,
    verification_data,
    web_base,
)
from test_p3_paths import fire_on
from p3_support import day
from test_role_matrix import MEMBERS, api_client, check, web_client

pytestmark = pytest.mark.django_db
LOGIN = 302
QUALITY_STAFF = {"quality": 200, "quality_mgr": 200}
QUALITY_MANAGER = {"quality_mgr": 200}


@pytest.fixture(autouse=True)
def no_pdfs(monkeypatch):
    skip_rendering(monkeypatch)


STEPS = [
    ("describe", "quality", describe_data(), None),
    ("contain", "engineering", containment_data(), None),
    ("analyse", "engineering", root_cause_data(), None),
    ("plan", "engineering", plan_data("production"), None),
    ("approve_plan", "quality_mgr", {}, "approved"),
    ("do_action", "production", {"outcome": "done", "evidence": "完成 done"}, None),
    ("validate", "quality_mgr", validation_data(30), "approved"),
    ("verify", "quality", verification_data(True), "verified"),
    ("prevent", "engineering", prevention_data(), None),
]


def walk(people, until):
    process = start(FLOW, "start", people["quality"], raise_data())
    for step, who, data, meaning in STEPS:
        if step == until:
            break
        act(process, step, people[who], data, meaning=meaning)
        if step == "validate":
            fire_on(day(30))
    return process


def open_task(process, step):
    return Task.objects.filter(process=process, flow_task=getattr(FLOW, step)).exclude(
        status__in=[STATUS.DONE, STATUS.CANCELED]).get()


@pytest.fixture(scope="module")
def module_world(module_people):
    """The eleven cases, each held at one step, made once for the module (about 7 s) in its transaction
    (conftest.module_people)."""
    people = module_people
    with pytest.MonkeyPatch.context() as patch:
        skip_rendering(patch)
        User.objects.create_user("outsider", password="Outsider-pass-1", display_name="外人 Outsider")
        tasks = {step: open_task(walk(people, step), step) for step, *_ in STEPS}
        tasks["close"] = open_task(walk(people, "close"), "close")
        extending = walk(people, "do_action")
        act(extending, "do_action", people["production"], {"outcome": "extension", "new_due_date": day(40),
                                                            "reason": "等待 waiting"})
        tasks["decide_extension"] = open_task(extending, "decide_extension")
    return {"tasks": tasks}


@pytest.fixture
def world(module_world, db):
    return module_world


@pytest.fixture
def people(module_people, db):
    return module_people


# who may see and claim each step's task (everyone else: 404 in the API, 403 in the browser)
CLAIMANTS = {
    "describe": QUALITY_STAFF,
    "approve_plan": QUALITY_MANAGER,
    "decide_extension": QUALITY_MANAGER,
    "validate": QUALITY_MANAGER,
    "verify": QUALITY_STAFF,
    "close": QUALITY_MANAGER,
}
# tasks put straight into one person's inbox: the team leader, the action's owner
ASSIGNED = {"contain": "engineering", "analyse": "engineering", "plan": "engineering", "prevent": "engineering",
            "do_action": "production"}


def web_task_url(task, action):
    return f"{web_base()}/{task.process_id}/{task.flow_task.name}/{task.pk}/{action}/"


@pytest.mark.parametrize("step", list(CLAIMANTS))
def test_each_queued_p3_task_is_seen_and_claimed_only_by_its_department_and_role(world, step):
    task = world["tasks"][step]
    allowed = {**CLAIMANTS[step], "*": 404, "anonymous": 401}
    check(api_client, lambda c: c.get(f"/api/tasks/{task.pk}/"), allowed)
    check(api_client, lambda c: c.post(f"/api/tasks/{task.pk}/claim/"), allowed)
    body = {"data": {}, "signature": {"username": "x", "password": "y", "meaning": "approved"}}
    check(api_client, lambda c: c.post(f"/api/tasks/{task.pk}/complete/", body, format="json"),
          {**{role: 409 for role in CLAIMANTS[step]}, "*": 404, "anonymous": 401})
    check(web_client, lambda c: c.get(web_task_url(task, "assign")), {**CLAIMANTS[step], "*": 403, "anonymous": LOGIN})
    check(web_client, lambda c: c.get(web_task_url(task, "execute")), {"*": 403, "anonymous": LOGIN})


@pytest.mark.parametrize("step", list(ASSIGNED))
def test_team_leader_and_action_owner_tasks_are_theirs_alone(world, step):
    task, owner = world["tasks"][step], ASSIGNED[step]
    assert task.owner.username == owner and task.status == STATUS.ASSIGNED
    check(api_client, lambda c: c.get(f"/api/tasks/{task.pk}/"), {owner: 200, "*": 404, "anonymous": 401})
    check(web_client, lambda c: c.get(web_task_url(task, "execute")), {owner: 200, "*": 403, "anonymous": LOGIN})


def test_only_quality_raises_a_corrective_action(world):
    check(api_client, lambda c: c.post("/api/capas/", raise_data(), format="json"),
          {"*": 403, "anonymous": 401, "quality": 201, "quality_mgr": 201})
    check(web_client, lambda c: c.get(f"{web_base()}/start/"),
          {"*": 403, "anonymous": LOGIN, "quality": 200, "quality_mgr": 200})


def test_department_members_see_corrective_actions_outsiders_do_not(world):
    number = CapaCase.objects.order_by("pk").first().record.number
    check(api_client, lambda c: c.get(f"/api/capas/{number}/"),
          {**{r: 200 for r in MEMBERS}, "*": 404, "anonymous": 401})
    check(api_client, lambda c: c.get("/api/capas/"), {"*": 200, "anonymous": 401})
    assert APIClient().get("/api/capas/").status_code == 401
    outsider = APIClient()
    outsider.force_authenticate(User.objects.get(username="outsider"))
    assert outsider.get("/api/capas/").json()["results"] == []


def test_a_team_member_without_a_department_sees_their_case_and_no_other(people):
    guest = User.objects.create_user("supplier_sqe", password="Guest-pass-2026", display_name="供应商 SQE Guest")
    other = start(FLOW, "start", people["quality"], raise_data(title="另一问题 another problem"))
    mine = start(FLOW, "start", people["quality"], raise_data())
    act(mine, "describe", people["quality"], describe_data(members=("production", "supplier_sqe")))
    mine_case, other_case = CapaCase.objects.get(record__process=mine), CapaCase.objects.get(record__process=other)
    assert guest in mine_case.members.all()

    api = APIClient()
    api.force_authenticate(guest)
    assert api.get(f"/api/capas/{mine_case.record.number}/").status_code == 200
    assert api.get(f"/api/capas/{other_case.record.number}/").status_code == 404
    assert [row["number"] for row in api.get("/api/capas/").json()["results"]] == [mine_case.record.number]
    assert api.get(f"/api/records/{mine_case.record_id}/").status_code == 200
    assert api.get(f"/api/records/{other_case.record_id}/").status_code == 404
    browser = Client()
    browser.force_login(guest)
    assert browser.get(f"/qms/records/{mine_case.record.number}/").status_code == 200
    assert browser.get(f"/qms/records/{other_case.record.number}/").status_code == 404
    # someone on no team and in no department sees nothing
    stranger = User.objects.create_user("stranger", password="Guest-pass-2026", display_name="路人 Stranger")
    api.force_authenticate(stranger)
    assert api.get(f"/api/capas/{mine_case.record.number}/").status_code == 404
    assert api.get(f"/api/records/{mine_case.record_id}/").status_code == 404


def test_only_the_owner_requests_an_extension_and_only_the_quality_manager_decides(people):
    process = walk(people, "do_action")
    task = open_task(process, "do_action")
    assert task.owner == people["production"]
    client = api_client("engineering")
    assert client.post(f"/api/tasks/{task.pk}/complete/", {"data": {"outcome": "extension"}},
                       format="json").status_code == 404
