"""Who may claim, work on and release a task: one rule for every human node of every flow
(workflows.steps.Step.refusal / release_target), issue 11 item 1.

The hole it closes: a task the flow assigned to a person without a queue (the 8D team
leader's D3, a CAPA action, a read-and-acknowledge task), once released, used to wait
with no owner and no queue — in everyone's queue, claimable and completable by a user
with no membership at all."""
import pytest
from django.test import Client
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inbox import delegation as service
from accounts.models import Department, Membership, Role, User
from api_driver import client_for
from core import esign
from core.errors import NotPermitted, WrongState
from core.models import AuditEntry
from flow_driver import act, open_tasks, start
from p3_support import FLOW as CAPA, containment_data, describe_data, raise_data
from workflows import actions, steps
from core.registry import flows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def outsider(people):
    """Signed in, active, no department membership."""
    user = User.objects.create_user("outsider", password="Demo-pass-2026", display_name="外人 Outsider")
    esign.accept_accountability(user)
    return user


@pytest.fixture
def capa_at_containment(people):
    """A CAPA whose D3 (containment) waits in the team leader's (engineering) inbox."""
    process = start(CAPA, "start", people["quality"], raise_data())
    act(process, "describe", people["quality"], describe_data(leader="engineering"))
    (task,) = open_tasks(process, "contain")
    return process, task


def _human_nodes():
    for flow_class in flows():
        for node in flow_class.instance.nodes():
            if getattr(node, "task_type", "") == "HUMAN":
                yield pytest.param(node, id=f"{flow_class.__name__}.{node.name}")


HUMAN_NODES = list(_human_nodes())


# --- the rule, for every human node of every flow ----------------------------------------------------------


@pytest.mark.parametrize("node", HUMAN_NODES)
def test_every_human_node_uses_the_one_rule(node):
    assert isinstance(node, steps.Step), f"{node.name} is a raw viewflow node: it would use viewflow's own rule"


@pytest.mark.parametrize("node", HUMAN_NODES)
def test_a_task_with_neither_queue_nor_person_is_claimable_by_nobody(people, outsider, node):
    """What a released personal task used to become: nobody's, so everybody's."""
    task = Task(flow_task=node, status=STATUS.NEW, owner=None, owner_permission=None, data={})
    for user in (outsider, people["admin"], people["quality_mgr"], people["market"]):
        assert not node.can_assign(user, task), user
        assert node.refusal(user, task)


@pytest.mark.parametrize("node", HUMAN_NODES)
def test_a_queue_task_is_refused_to_whoever_does_not_hold_the_queue(people, outsider, node):
    task = Task(flow_task=node, status=STATUS.NEW, owner=None,
                owner_permission="accounts.dept_engineering_manager", data={})
    for user in (outsider, people["admin"], people["quality_mgr"], people["engineering"]):
        assert not node.can_assign(user, task), user
    assert node.release_target(Task(flow_task=node, status=STATUS.ASSIGNED, owner=people["engineering_mgr"],
                                    owner_permission="accounts.dept_engineering_manager", data={})) \
        == actions.QUEUE


@pytest.mark.parametrize("node", HUMAN_NODES)
def test_a_task_bound_to_a_person_is_theirs_alone_and_cannot_be_released_by_them(people, outsider, node):
    leader = people["engineering"]
    task = Task(flow_task=node, status=STATUS.ASSIGNED, owner=leader, owner_permission=None,
                data={steps.ASSIGNEE: leader.pk, "user": leader.pk})
    for user in (outsider, people["admin"], people["quality_mgr"], people["engineering_mgr"]):
        assert node.refusal(user, task) and not node.can_execute(user, task), user
    assert node.release_target(task) is None
    assert not node.can_unassign(leader, task)


# --- the reported hole, end to end -------------------------------------------------------------------------


def test_the_leader_cannot_release_the_d3_task_to_everyone_and_keeps_it(people, outsider, capa_at_containment):
    process, task = capa_at_containment
    assert (task.owner, task.data[steps.ASSIGNEE]) == (people["engineering"], people["engineering"].pk)
    leader_api = client_for("engineering")
    response = leader_api.post(f"/api/tasks/{task.pk}/release/")
    assert response.status_code == 409 and "reassign" in response.json()["detail"]
    task.refresh_from_db()
    assert (task.status, task.owner) == (STATUS.ASSIGNED, people["engineering"])
    assert leader_api.get(f"/api/tasks/{task.pk}/").status_code == 200
    assert not AuditEntry.objects.filter(action="task.released", object_id=str(task.pk)).exists()


def test_an_outsider_can_neither_see_claim_nor_complete_the_leaders_task(people, outsider, capa_at_containment):
    process, task = capa_at_containment
    api = client_for("outsider")
    assert all(t["id"] != task.pk for t in api.get("/api/tasks/?queue=1").json()["results"])
    assert api.get(f"/api/tasks/{task.pk}/").status_code == 404
    assert api.post(f"/api/tasks/{task.pk}/claim/").status_code == 404
    assert api.post(f"/api/tasks/{task.pk}/complete/", {"data": containment_data()}, format="json").status_code == 404
    with pytest.raises(WrongState):
        actions.claim_task(task, actor=outsider)  # it is the leader's
    with pytest.raises(NotPermitted):
        act(process, "contain", outsider, containment_data(), task=task)
    task.refresh_from_db()
    assert (task.status, task.owner) == (STATUS.ASSIGNED, people["engineering"])


def test_a_task_that_lost_its_queue_role_cannot_be_completed(people, capa_at_containment):
    """Completion asks the same rule as claiming: a person whose membership was removed after
    claiming a queue task may not complete it."""
    process, _task = capa_at_containment
    (describe,) = [t for t in Task.objects.filter(process=process, flow_task=CAPA.describe)]
    assert describe.status == STATUS.DONE  # completed above by quality
    quality2 = User.objects.create_user("quality2", password="Demo-pass-2026", display_name="品质二 Q2")
    membership = Membership.objects.create(user=quality2, department=Department.QUALITY, role=Role.STAFF)
    esign.accept_accountability(quality2)
    other = start(CAPA, "start", people["quality"], raise_data(reference="IPQC-2026-099"))
    (task,) = open_tasks(other, "describe")
    actions.claim_task(task, actor=quality2)
    membership.delete()
    quality2 = User.objects.get(pk=quality2.pk)  # a new request: no cached permissions
    with pytest.raises(NotPermitted):
        act(other, "describe", quality2, describe_data(), task=Task.objects.get(pk=task.pk))
    assert Task.objects.get(pk=task.pk).status == STATUS.ASSIGNED


def test_a_queue_task_released_goes_back_to_its_queue_only(people, outsider):
    process = start(CAPA, "start", people["quality"], raise_data())
    (task,) = open_tasks(process, "describe")
    actions.claim_task(task, actor=people["quality"])
    actions.release_task(task, actor=people["quality"])
    task.refresh_from_db()
    assert (task.status, task.owner, task.owner_permission) == (STATUS.NEW, None, "accounts.dept_quality_staff")
    assert all(t["id"] != task.pk for t in client_for("outsider").get("/api/tasks/?queue=1").json()["results"])
    assert any(t["id"] == task.pk for t in client_for("quality").get("/api/tasks/?queue=1").json()["results"])


def test_acknowledgements_are_neither_claimable_nor_releasable_by_others(people, outsider):
    """P4 read-and-acknowledge: personal, never delegated; the addressee alone holds it."""
    from p4_support import fire_timers, issue, register

    process = register(people)
    issue(people, process, "A/0")
    fire_timers()
    task = open_tasks(process, "acknowledge")[0]
    addressee = task.owner
    with pytest.raises(WrongState):
        actions.release_task(task, actor=addressee)
    for user in (outsider, people["admin"]):
        assert not task.flow_task.can_execute(user, task)
    assert client_for("outsider").post(f"/api/tasks/{task.pk}/claim/").status_code == 404


def test_a_substitute_releases_a_bound_task_back_to_the_absent_person_never_to_a_queue(people):
    """The 8D leader is away: D3 goes to their substitute, who hands it back to the leader."""
    service.create_delegation(delegator=people["engineering"], substitute=people["engineering_mgr"],
                              starts_on=service.company_day(), ends_on=service.company_day(),
                              reason="出差 business trip", actor=people["engineering"])
    process = start(CAPA, "start", people["quality"], raise_data())
    act(process, "describe", people["quality"], describe_data(leader="engineering"))
    (task,) = open_tasks(process, "contain")
    assert (task.owner, task.data["on_behalf_of"]) == (people["engineering_mgr"], people["engineering"].pk)
    actions.release_task(task, actor=people["engineering_mgr"])
    task.refresh_from_db()
    assert (task.status, task.owner, task.owner_permission) == (STATUS.ASSIGNED, people["engineering"], None)
    assert "on_behalf_of" not in task.data and "delegated_to" not in task.data
    entry = AuditEntry.objects.filter(action="task.assigned", object_id=str(task.pk)).latest("seq")
    assert entry.actor == people["engineering_mgr"] and entry.new_values["owner_id"] == people["engineering"].pk
    with pytest.raises(WrongState):  # the leader's own: nowhere else to go
        actions.release_task(task, actor=people["engineering"])


def test_a_directly_assigned_task_with_a_queue_is_released_to_that_queue(people):
    """The complaint analysis is assigned to the Market manager who compiled it, with the Market
    managers' queue behind it: released, it waits there."""
    from procedures.complaints import actions as p2
    from procedures.complaints.flows import ComplaintFlow

    period_start, period_end = p2.previous_period()
    process = start(ComplaintFlow, "start_analysis", people["market_mgr"],
                    {"period_start": period_start.isoformat(), "period_end": period_end.isoformat()})
    (task,) = open_tasks(process, "approve_analysis")
    assert task.owner == people["market_mgr"]
    actions.release_task(task, actor=people["market_mgr"])
    task.refresh_from_db()
    assert (task.status, task.owner, task.owner_permission) == (STATUS.NEW, None, "accounts.dept_market_manager")
    assert not task.flow_task.can_assign(people["market"], task)  # Market staff: not their queue
    assert task.flow_task.can_assign(people["market_mgr"], task)


def test_a_released_task_in_the_browser_queue_is_shown_only_to_its_queue(people, outsider):
    process = start(CAPA, "start", people["quality"], raise_data(title="浏览器队列 browser queue"))
    (task,) = open_tasks(process, "describe")
    actions.claim_task(task, actor=people["quality"])
    actions.release_task(task, actor=people["quality"])
    web = Client()
    web.force_login(people["production"])  # a member of another department
    page = web.get("/qms/queue/")
    assert page.status_code == 200 and f"/{task.pk}/" not in page.content.decode()
    web.force_login(people["quality"])
    page = web.get("/qms/queue/")
    assert page.status_code == 200 and f"/{task.pk}/" in page.content.decode()


def test_the_return_command_gives_a_released_personal_task_back_to_whoever_released_it(people, capa_at_containment):
    """Tasks released to nobody under the old rule are repaired by `manage.py return_released_tasks`."""
    from io import StringIO

    from django.core.management import call_command

    process, task = capa_at_containment
    # what the old rule did: the leader released it to nobody
    from core.context import acting_as
    from django.db import transaction

    with acting_as(people["engineering"]), transaction.atomic():
        task.owner, task.status, task.data = None, STATUS.NEW, {}
        task.save()
    out = StringIO()
    call_command("return_released_tasks", stdout=out)
    assert "dry run" in out.getvalue()
    assert Task.objects.get(pk=task.pk).owner is None
    call_command("return_released_tasks", "--apply", stdout=out)
    task.refresh_from_db()
    assert (task.status, task.owner, task.data[steps.ASSIGNEE]) == (STATUS.ASSIGNED, people["engineering"],
                                                                    people["engineering"].pk)
    assert AuditEntry.objects.filter(action="task.returned", object_id=str(task.pk)).exists()
