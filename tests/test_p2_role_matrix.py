"""Every P2 URL and API endpoint × every role → allowed, or refused (401/403/404/409).
Each role's request runs in a savepoint that is rolled back (see test_role_matrix.check); the cases are made
once for the module."""
import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.models import User
from workflows import actions
from flow_driver import act, start
from procedures.complaints.models import ComplaintCase, Lot
from p2_support import FLOW, disposition, inspection, intake, judgement, receipt, today, web_base
from test_role_matrix import MEMBERS, ROLES, api_client, check, web_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_pdfs(monkeypatch):
    from p2_support import skip_rendering

    skip_rendering(monkeypatch)

LOGIN = 302
ALL = {role: 200 for role in MEMBERS}
QUALITY_STAFF = {"quality": 200, "quality_mgr": 200}
QUALITY_MANAGER = {"quality_mgr": 200}
MARKET_STAFF = {"market": 200, "market2": 200, "market_mgr": 200}
MATERIALS_STAFF = {"materials": 200, "materials_mgr": 200}


def walk(people, until, **intake_extra):
    """A P2 process advanced to the step `until` (its task open)."""
    steps = [
        ("inspect", "quality", inspection(), "authored"),
        ("judge", "quality_mgr", judgement(intake_extra.pop("justified", True)), "reviewed"),
        ("hand_over", "market", {}, None),
        ("receive", "materials", receipt(), "authored"),
        ("dispose", "quality_mgr", intake_extra.pop("disposition", disposition(("scrap", "120"))), "approved"),
    ]
    process = start(FLOW, "start", people["market"], intake(**intake_extra))
    for step, who, data, meaning in steps:
        if step == until:
            break
        act(process, step, people[who], data, meaning=meaning)
    return process


def open_task(process, step, permission=None):
    tasks = Task.objects.filter(process=process, flow_task=getattr(FLOW, step)).exclude(
        status__in=[STATUS.DONE, STATUS.CANCELED])
    if permission:
        tasks = tasks.filter(owner_permission=permission)
    return tasks.get()


@pytest.fixture(scope="module")
def module_world(module_people):
    """The complaint cases, each held at one step, made once for the module (about 15 s) in its transaction
    (conftest.module_people)."""
    from p2_support import skip_rendering

    people = module_people
    with pytest.MonkeyPatch.context() as patch:
        skip_rendering(patch)
        User.objects.create_user("outsider", password="Outsider-pass-1", display_name="外人 Outsider")
        at = {step: walk(people, step) for step in ["inspect", "judge", "hand_over", "receive", "dispose"]}
        at["negotiate"] = walk(people, "hand_over", justified=False)
        signing = walk(people, None, disposition=disposition(("concession", "100"), ("return_to_supplier", "20")))
        accepting = walk(people, None, contract_requires_acceptance=True,
                         disposition=disposition(("concession", "120")))
        act(accepting, "sign_disposition", people["gm"], {}, meaning="approved")
        reinspecting = walk(people, None, disposition=disposition(("rework", "120")))
        deciding = walk(people, None)
        settling = start(FLOW, "start", people["market"], intake(kind="complaint", lot=""))
        act(settling, "inspect", people["quality"], inspection(inspected=None, defective=None), meaning="authored")
        act(settling, "judge", people["quality_mgr"], judgement(True), meaning="reviewed")
        analysis = start(FLOW, "start_analysis", people["market_mgr"],
                         {"period_start": today(-30), "period_end": today()})
        tasks = {step: open_task(process, step) for step, process in at.items()}
        tasks["sign_gm"] = open_task(signing, "sign_disposition", "accounts.dept_management_manager")
        tasks["sign_procurement"] = open_task(signing, "sign_disposition", "accounts.dept_materials_staff")
        tasks["customer_acceptance"] = open_task(accepting, "customer_acceptance")
        tasks["reinspect"] = open_task(reinspecting, "reinspect")
        tasks["decide_capa"] = open_task(deciding, "decide_capa")
        tasks["settle"] = open_task(settling, "settle")
        tasks["approve_analysis"] = open_task(analysis, "approve_analysis")
        case = ComplaintCase.objects.get(record__process=at["dispose"])
    return {"tasks": tasks, "case": case, "lot": Lot.objects.get(pk=case.lot_id), "pid": at["dispose"].pk,
            "analysis": analysis}


@pytest.fixture
def world(module_world, db):
    return module_world


@pytest.fixture
def people(module_people, db):
    return module_people


# who may see and claim each step's task (everyone else: 404 in the API, 403 in the browser)
CLAIMANTS = {
    "inspect": QUALITY_STAFF,
    "judge": {"quality_mgr": 200},
    "negotiate": MARKET_STAFF,
    "hand_over": MARKET_STAFF,
    "receive": MATERIALS_STAFF,
    "dispose": QUALITY_MANAGER,
    "sign_gm": {"gm": 200},
    "sign_procurement": MATERIALS_STAFF,
    "customer_acceptance": MARKET_STAFF,
    "reinspect": QUALITY_STAFF,
    "decide_capa": QUALITY_MANAGER,
    "settle": MARKET_STAFF,
}


def web_task_url(task, action):
    return f"{web_base()}/{task.process_id}/{task.flow_task.name}/{task.pk}/{action}/"


@pytest.mark.parametrize("step", list(CLAIMANTS))
def test_each_p2_task_is_seen_and_claimed_only_by_its_department_and_role(world, step):
    task = world["tasks"][step].pk
    allowed = {**CLAIMANTS[step], "*": 404, "anonymous": 401}
    check(api_client, lambda c: c.get(f"/api/tasks/{task}/"), allowed)
    check(api_client, lambda c: c.post(f"/api/tasks/{task}/claim/"), allowed)
    # nobody completes a task they have not claimed (SIG-6)
    body = {"data": {}, "signature": {"username": "x", "password": "y", "meaning": "approved"}}
    check(api_client, lambda c: c.post(f"/api/tasks/{task}/complete/", body, format="json"),
          {**{role: 409 for role in CLAIMANTS[step]}, "*": 404, "anonymous": 401})
    # the browser: the assign page for the same people, the execute page for nobody unclaimed
    task_row = world["tasks"][step]
    check(web_client, lambda c: c.get(web_task_url(task_row, "assign")),
          {**CLAIMANTS[step], "*": 403, "anonymous": LOGIN})
    check(web_client, lambda c: c.get(web_task_url(task_row, "execute")), {"*": 403, "anonymous": LOGIN})


def test_the_analysis_goes_straight_to_the_market_managers_inbox(world):
    task = world["tasks"]["approve_analysis"]
    assert task.owner.username == "market_mgr" and task.status == STATUS.ASSIGNED
    check(api_client, lambda c: c.get(f"/api/tasks/{task.pk}/"), {"market_mgr": 200, "*": 404, "anonymous": 401})
    check(web_client, lambda c: c.get(web_task_url(task, "execute")),
          {"market_mgr": 200, "*": 403, "anonymous": LOGIN})


def test_the_inspector_does_not_judge_their_own_report(people):
    process = start(FLOW, "start", people["market"], intake())
    act(process, "inspect", people["quality_mgr"], inspection(), meaning="authored")  # the manager inspected
    task = open_task(process, "judge")
    response = api_client("quality_mgr").post(f"/api/tasks/{task.pk}/claim/")
    assert response.status_code == 403


def test_the_judgement_asks_the_inspector_rule_before_the_password_and_in_its_action_not_twice_under_the_lock(
        people, monkeypatch):
    """The judge step's rule is `forbid_rechecked`: judge_case() asks it of the case it locks, so the completion
    asks it before the password only (a third asking under the flow lock read the case once more)."""
    from procedures.complaints import actions as p2

    process = start(FLOW, "start", people["market"], intake())
    act(process, "inspect", people["quality"], inspection(), meaning="authored")
    asked = []
    rule = p2.judgement_forbidden_reason
    monkeypatch.setattr(p2, "judgement_forbidden_reason",
                        lambda case, user: asked.append(user.username) or rule(case, user))
    task = open_task(process, "judge")
    actions.claim_task(task, actor=people["quality_mgr"])
    asked.clear()
    act(process, "judge", people["quality_mgr"], judgement(True), meaning="reviewed")
    assert asked == ["quality_mgr", "quality_mgr"]


def test_the_quality_manager_who_disposed_does_not_give_the_second_signature(people):
    from accounts.models import Membership

    Membership.objects.create(user=people["quality_mgr"], department="management", role="manager")
    process = walk(people, None, disposition=disposition(("concession", "120")))
    task = open_task(process, "sign_disposition")
    assert api_client("quality_mgr").post(f"/api/tasks/{task.pk}/claim/").status_code == 403
    assert api_client("gm").post(f"/api/tasks/{task.pk}/claim/").status_code == 200


def test_api_start_a_complaint_only_market(world):
    check(api_client, lambda c: c.post("/api/complaints/", intake(), format="json"),
          {"*": 403, "anonymous": 401, "market": 201, "market2": 201, "market_mgr": 201})


def test_api_compile_an_analysis_only_the_market_manager(world):
    body = {"period_start": today(-30), "period_end": today()}
    check(api_client, lambda c: c.post("/api/complaint-analyses/", body, format="json"),
          {"*": 403, "anonymous": 401, "market_mgr": 201})


def test_api_lots_for_members(world):
    lot = world["lot"].pk
    check(api_client, lambda c: c.get(f"/api/lots/{lot}/"), {**ALL, "*": 404, "anonymous": 401})
    check(api_client, lambda c: c.get("/api/lots/"), {"*": 200, "anonymous": 401})
    for role in ROLES[1:]:
        body = api_client(role).get("/api/lots/?status=on_hold").json()
        assert (body["count"] > 0) == (role != "outsider"), role


def test_api_p2_processes_and_records_for_members(world):
    case = world["case"]
    for url in [f"/api/processes/{world['pid']}/", f"/api/records/{case.record.pk}/",
                f"/api/records/{case.record.pk}/audit/", f"/api/records/{case.anomaly_report.record.pk}/"]:
        check(api_client, lambda c: c.get(url), {**ALL, "*": 404, "anonymous": 401})


def test_web_start_pages(world):
    check(web_client, lambda c: c.get(f"{web_base()}/start/"),
          {**MARKET_STAFF, "*": 403, "anonymous": LOGIN})
    check(web_client, lambda c: c.get(f"{web_base()}/start_analysis/"),
          {"market_mgr": 200, "*": 403, "anonymous": LOGIN})


def test_web_flow_pages_and_p2_records_for_members(world):
    case = world["case"]
    for url in [f"{web_base()}/", f"{web_base()}/{world['pid']}/", f"{web_base()}/chart/", "/qms/inbox/",
                "/qms/queue/", f"/qms/records/{case.record.number}/",
                f"/qms/records/{case.material_receipt.record.number}/"]:
        check(web_client, lambda c: c.get(url), {**ALL, "*": 403, "anonymous": LOGIN})


def test_web_process_cancel_only_for_administrators(world):
    check(web_client, lambda c: c.post(f"{web_base()}/{world['pid']}/cancel/"), {"*": 403, "anonymous": LOGIN})


def test_the_disposition_rules_are_edited_by_administrators_only_and_audited(world, people):
    from core.models import AuditEntry
    from procedures.complaints.models import DispositionRule

    rule = DispositionRule.objects.get(code="scrap")
    url = f"/admin/complaints/dispositionrule/{rule.pk}/change/"
    check(web_client, lambda c: c.get(url), {"*": 302, "anonymous": 302})  # Django admin: to its login
    admin = web_client("anonymous")
    admin.force_login(people["admin"])
    assert admin.get(url).status_code == 200
    response = admin.post(url, {"code": "scrap", "signers": ["production:manager"], "reinspection": "",
                                "customer_acceptance": "", "reason": "报废需生产经理会签 production signs scrap"})
    assert response.status_code == 302, response.content.decode()[:3000]
    rule.refresh_from_db()
    assert rule.signers == ["production:manager"]
    entry = AuditEntry.objects.get(action="disposition_rule.changed")
    assert entry.old_values == {"signers": []} and entry.new_values == {"signers": ["production:manager"]}
    assert entry.reason == "报废需生产经理会签 production signs scrap" and entry.actor == people["admin"]
