"""A department manager reassigns an open task with a reason (issue 7 part B), through
the browser and the API: audited old → new owner; refused to non-managers and to people
who may not act on the task (outside its department, or barred by the step's own rule,
e.g. judging one's own inspection report)."""
import pytest
from django.test import Client
from django.utils import translation
from viewflow.workflow.status import STATUS

from inbox import delegation as service
from accounts.models import Department, Membership, Role, User
from api_driver import client_for
from core import esign
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import AuditEntry
from flow_driver import act, open_tasks, start
from p2_support import FLOW, inspection, intake
from workflows import actions

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def colleague(username, printed, department=Department.QUALITY, role=Role.STAFF):
    user = User(username=username, display_name=printed)
    user.set_password("Demo-pass-2026")
    user.save()
    Membership.objects.create(user=user, department=department, role=role)
    esign.accept_accountability(user)
    return user


@pytest.fixture
def claimed(people):
    """A complaint whose inspection `quality` has claimed; a second Quality inspector exists."""
    process = start(FLOW, "start", people["market"], intake())
    (task,) = open_tasks(process, "inspect")
    actions.claim_task(task, actor=people["quality"])
    task.refresh_from_db()
    return process, task, colleague("quality2", "郑洁 Zheng Jie")


def web(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_reassigns_a_claimed_task_in_the_browser_with_a_reason(people, claimed):
    process, task, quality2 = claimed
    browser = web(people["quality_mgr"])
    listing = browser.get("/qms/delegations/tasks/").content.decode()
    assert f'id="reassign-{task.pk}"' in listing
    form = browser.get(f"/qms/delegations/tasks/{task.pk}/reassign/").content.decode()
    assert 'id="reassign-form"' in form and "郑洁 Zheng Jie" in form
    assert ">陈静 Chen Jing" not in form  # Production may not inspect
    response = browser.post(f"/qms/delegations/tasks/{task.pk}/reassign/",
                            {"user": quality2.pk, "reason": "王芳病假 Wang Fang is on sick leave"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.owner, task.status) == (quality2, STATUS.ASSIGNED)
    entry = AuditEntry.objects.get(action="task.reassigned", object_id=str(task.pk))
    assert entry.actor == people["quality_mgr"] and entry.reason == "王芳病假 Wang Fang is on sick leave"
    assert (entry.old_values["owner"], entry.new_values["owner"]) == ("quality", "quality2")
    # the new owner does the work, in their own name
    act(process, "inspect", quality2, inspection(), meaning="authored")
    assert AuditEntry.objects.get(action="task.completed", object_id=str(task.pk)).on_behalf_of is None


def test_the_reason_is_mandatory(people, claimed):
    process, task, quality2 = claimed
    response = web(people["quality_mgr"]).post(f"/qms/delegations/tasks/{task.pk}/reassign/",
                                               {"user": quality2.pk, "reason": ""})
    assert response.status_code == 400
    with pytest.raises(InvalidInput) as error:
        service.reassign_task(task, actor=people["quality_mgr"], new_owner=quality2, reason="  ")
    assert "reason" in error.value.field_errors
    task.refresh_from_db()
    assert task.owner == people["quality"]
    assert not AuditEntry.objects.filter(action="task.reassigned").exists()


def test_a_manager_reassigns_through_the_api_and_the_new_owner_is_notified(people, claimed):
    process, task, quality2 = claimed
    response = client_for("quality_mgr").post(f"/api/tasks/{task.pk}/reassign/",
                                              {"user": "quality2", "reason": "workload 工作量平衡"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["owner"], response.json()["status"]) == ("quality2", "ASSIGNED")
    assert AuditEntry.objects.get(action="task.reassigned").new_values["owner"] == "quality2"
    pytest.importorskip("inbox.notify")
    from inbox.models import Notification

    (note,) = Notification.objects.filter(recipient=quality2, task_id=task.pk)
    assert note.kind == "assigned"


def test_a_queued_task_can_be_given_to_someone_directly(people):
    process = start(FLOW, "start", people["market"], intake())
    (task,) = open_tasks(process, "inspect")
    assert task.status == STATUS.NEW
    colleague("quality2", "郑洁 Zheng Jie")
    response = client_for("quality_mgr").post(f"/api/tasks/{task.pk}/reassign/",
                                              {"user": "quality2", "reason": "紧急 urgent"}, format="json")
    assert response.status_code == 200, response.content
    task.refresh_from_db()
    assert (task.owner.username, task.status) == ("quality2", STATUS.ASSIGNED)
    entry = AuditEntry.objects.get(action="task.reassigned")
    assert entry.old_values == {"step": "inspect", "owner": None, "queue": "accounts.dept_quality_staff"}


@pytest.mark.parametrize("username", ["quality", "production_mgr", "market"])
def test_someone_who_does_not_manage_the_tasks_department_gets_403(people, claimed, username):
    process, task, quality2 = claimed
    response = client_for(username).post(f"/api/tasks/{task.pk}/reassign/",
                                         {"user": "quality2", "reason": "I want to"}, format="json")
    assert response.status_code == 403 and response.json()["detail"]
    assert web(people[username]).get(f"/qms/delegations/tasks/{task.pk}/reassign/").status_code == 403
    assert web(people[username]).post(f"/qms/delegations/tasks/{task.pk}/reassign/",
                                      {"user": quality2.pk, "reason": "x"}).status_code == 403
    task.refresh_from_db()
    assert task.owner == people["quality"]


def test_an_administrator_may_reassign_any_task(people, claimed):
    process, task, quality2 = claimed
    service.reassign_task(task, actor=people["admin"], new_owner=quality2, reason="组织调整 reorganisation")
    task.refresh_from_db()
    assert task.owner == quality2


def test_a_task_cannot_go_to_someone_outside_its_department(people, claimed):
    process, task, quality2 = claimed
    response = client_for("quality_mgr").post(f"/api/tasks/{task.pk}/reassign/",
                                              {"user": "production", "reason": "help out"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["user"] == ["陈静 Chen Jing does not hold the role this task needs."]
    task.refresh_from_db()
    assert task.owner == people["quality"]
    assert not AuditEntry.objects.filter(action="task.reassigned").exists()


def test_the_steps_own_rule_still_applies_the_inspector_does_not_judge_their_own_report(people):
    process = start(FLOW, "start", people["market"], intake())
    act(process, "inspect", people["quality_mgr"], inspection(), meaning="authored")  # the manager inspected
    (task,) = open_tasks(process, "judge")
    second = colleague("quality_mgr2", "郭峰 Guo Feng", role=Role.MANAGER)
    with pytest.raises(InvalidInput) as error, translation.override("en"):
        service.reassign_task(task, actor=people["admin"], new_owner=people["quality_mgr"], reason="he knows it")
    assert "another Quality manager must judge the report" in error.value.field_errors["user"][0]
    candidates = service.reassign_candidates(task)
    assert second in candidates and people["quality_mgr"] not in candidates
    service.reassign_task(task, actor=people["quality_mgr"], new_owner=second, reason="second check 复核")
    task.refresh_from_db()
    assert task.owner == second


def test_a_task_cannot_go_to_someone_who_is_absent(people, claimed):
    process, task, quality2 = claimed
    service.create_delegation(delegator=quality2, substitute=people["quality_mgr"], starts_on=service.company_day(),
                              ends_on=service.company_day(), reason="年假 annual leave", actor=quality2)
    with pytest.raises(InvalidInput) as error:
        service.reassign_task(task, actor=people["quality_mgr"], new_owner=quality2, reason="cover")
    assert "is absent until" in error.value.field_errors["user"][0]


def test_a_completed_task_cannot_be_reassigned(people, claimed):
    process, task, quality2 = claimed
    act(process, "inspect", people["quality"], inspection(), meaning="authored", task=task)
    response = client_for("quality_mgr").post(f"/api/tasks/{task.pk}/reassign/",
                                              {"user": "quality2", "reason": "too late"}, format="json")
    assert response.status_code == 409 and response.json()["current_state"] == STATUS.DONE
    with pytest.raises(WrongState):
        service.reassign_task(task, actor=people["quality_mgr"], new_owner=quality2, reason="too late")


def test_a_reassigned_delegated_task_is_no_longer_signed_on_behalf(people):
    """A task that came to a substitute and is then reassigned: the new owner acts in their own name."""
    admin = people["admin"]
    deputy = colleague("market_deputy", "副经理 Deputy", Department.MARKET, Role.MANAGER)
    esign.accept_accountability(deputy)
    from procedures.complaints import actions as p2

    service.create_delegation(delegator=people["market_mgr"], substitute=deputy, starts_on=service.company_day(),
                              ends_on=service.company_day(), reason="出差 business trip", actor=people["market_mgr"])
    period_start, period_end = p2.previous_period()
    process = start(FLOW, "start_analysis", people["market_mgr"],
                    {"period_start": period_start.isoformat(), "period_end": period_end.isoformat()})
    (task,) = open_tasks(process, "approve_analysis")
    assert service.acting_for(task, deputy) == people["market_mgr"]
    market_mgr2 = colleague("market_mgr2", "钱进 Qian Jin", Department.MARKET, Role.MANAGER)
    service.reassign_task(task, actor=admin, new_owner=market_mgr2, reason="本部门处理 handled in the department")
    task.refresh_from_db()
    assert "on_behalf_of" not in task.data and service.acting_for(task, market_mgr2) is None
    with pytest.raises(NotPermitted):
        service.reassign_task(task, actor=people["quality_mgr"], new_owner=admin, reason="no")


def test_the_task_page_offers_reassignment_to_a_manager_who_holds_it(people, claimed):
    process, task, quality2 = claimed
    service.reassign_task(task, actor=people["quality_mgr"], new_owner=people["quality_mgr"], reason="I do it")
    page = web(people["quality_mgr"]).get(f"/qms/flows/complaint/{process.pk}/inspect/{task.pk}/execute/")
    assert page.status_code == 200 and 'id="reassign-link"' in page.content.decode()
    service.reassign_task(task, actor=people["quality_mgr"], new_owner=people["quality"], reason="back to you")
    page = web(people["quality"]).get(f"/qms/flows/complaint/{process.pk}/inspect/{task.pk}/execute/")
    assert page.status_code == 200 and 'id="reassign-link"' not in page.content.decode()
