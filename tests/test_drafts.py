"""Drafts: a task's form saved without completing the step, in the browser ("Save
draft") and through the API (GET/PUT/DELETE /api/tasks/{id}/draft/). Reopening the
task pre-fills the form (formset line items included); completing the step deletes
the draft; only the task's owner has one; a draft changes no record and no process."""
import datetime

import pytest
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.models import AuditEntry, RecordVersion, Signature
from drivers import flatten
from inbox.models import TaskDraft
from p1_driver import open_task, review_all, start
from workflows import actions

pytestmark = pytest.mark.django_db

BASE = "/qms/flows/orderreview"


def later(days):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


@pytest.fixture
def negotiation(people, order_data):
    """A P1 order in negotiation (production set conditions), claimed by Market."""
    process = start(people["market"], order_data())
    review_all(process, people, verdicts={"production": "conditions"})
    task = open_task(process, "negotiate")
    actions.claim_task(task, actor=people["market"])
    task.refresh_from_db()
    return process, task


def change_data(order_data, delivery_in=60):
    lines = order_data()["lines"]
    lines[0]["delivery_date"] = later(delivery_in)
    lines[0]["quantity"] = "650"
    return {"outcome": "change", "notes": "草稿：客户倾向延期 draft: customer leans to later delivery",
            "category": "later", "affected_departments": ["production"], "customer_confirmed": True, "lines": lines}


def web(user):
    client = Client()
    client.force_login(user)
    return client


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def step_url(process, task):
    return f"{BASE}/{process.pk}/negotiate/{task.pk}/execute/"


def test_save_draft_in_the_browser_keeps_the_form_and_reopening_the_task_prefills_it_with_its_line_items(
        negotiation, people, order_data):
    process, task = negotiation
    client = web(people["market"])
    data = change_data(order_data)
    response = client.post(step_url(process, task), {**flatten(data), "save_draft": "1"})
    assert response.status_code == 302 and response["Location"].endswith(step_url(process, task))
    draft = TaskDraft.objects.get(task=task, user=people["market"])
    assert draft.data["outcome"] == "change" and draft.data["customer_confirmed"] is True
    assert draft.data["affected_departments"] == ["production"]
    assert [line["product"] for line in draft.data["lines"]] == ["P-1001", "P-1002"]
    assert draft.data["lines"][0]["delivery_date"] == later(60) and draft.data["lines"][0]["quantity"] == "650"

    page = client.get(step_url(process, task)).content.decode()
    assert 'id="draft-saved"' in page and "草稿：客户倾向延期" in page
    assert f'value="{later(60)}"' in page and 'value="650"' in page, "the line items come from the draft"
    assert '<input type="checkbox" name="customer_confirmed" id="id_customer_confirmed" checked>' in page
    assert 'value="production" id="id_affected_departments_1" checked>' in page
    assert 'value="change" required id="id_outcome_0" checked>' in page
    assert 'id="save-draft"' in page
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED, "saving a draft does not complete the step"


def test_a_draft_saved_through_the_api_is_read_back_and_prefills_the_browser_form(negotiation, people, order_data):
    process, task = negotiation
    client = api(people["market"])
    response = client.put(f"/api/tasks/{task.pk}/draft/", {"data": change_data(order_data, 75)}, format="json")
    assert response.status_code == 200, response.content
    body = client.get(f"/api/tasks/{task.pk}/draft/").json()
    assert body["task"] == task.pk and body["data"]["lines"][0]["delivery_date"] == later(75)
    assert body["data"]["customer_confirmed"] is True and body["updated"]
    page = web(people["market"]).get(step_url(process, task)).content.decode()
    assert f'value="{later(75)}"' in page and "草稿：客户倾向延期" in page
    # saved again: replaced, still one draft
    client.put(f"/api/tasks/{task.pk}/draft/", {"data": {"outcome": "declined", "notes": "再想想"}}, format="json")
    assert TaskDraft.objects.get(task=task).data == {"outcome": "declined", "notes": "再想想"}
    assert client.delete(f"/api/tasks/{task.pk}/draft/").status_code == 204
    assert client.get(f"/api/tasks/{task.pk}/draft/").status_code == 404
    assert not TaskDraft.objects.exists()


def test_completing_the_step_deletes_its_draft(negotiation, people, order_data):
    process, task = negotiation
    api(people["market"]).put(f"/api/tasks/{task.pk}/draft/", {"data": {"notes": "半成品 half done"}}, format="json")
    assert TaskDraft.objects.filter(task=task).exists()
    data = change_data(order_data)
    node = task.flow_task
    form = node.make_form(data=data, api=True, activation=node.activation_class(task), user=people["market"])
    actions.complete_step(task, actor=people["market"], form=form,
                        signature_input=actions.SignatureInput(password="Demo-pass-2026", meaning="authored"))
    assert not TaskDraft.objects.filter(task=task).exists()


def test_another_user_can_neither_read_nor_write_nor_discard_the_draft(negotiation, people):
    process, task = negotiation
    api(people["market"]).put(f"/api/tasks/{task.pk}/draft/", {"data": {"notes": "我的 mine"}}, format="json")
    for name in ["market2", "market_mgr", "quality"]:
        other = api(people[name])
        read = other.get(f"/api/tasks/{task.pk}/draft/")
        assert read.status_code == 403 and "我的" not in read.content.decode()
        assert read.json()["detail"]
        assert other.put(f"/api/tasks/{task.pk}/draft/", {"data": {"notes": "x"}}, format="json").status_code == 403
        assert other.delete(f"/api/tasks/{task.pk}/draft/").status_code == 403
    assert APIClient().get(f"/api/tasks/{task.pk}/draft/").status_code == 401
    assert TaskDraft.objects.get(task=task).data == {"notes": "我的 mine"}
    # nor in the browser: the step page is the owner's only, and shows no one else's draft
    page = web(people["market2"]).get(step_url(process, task))
    assert page.status_code in (302, 403, 404) or "我的 mine" not in page.content.decode()


def test_an_unclaimed_task_has_no_draft_and_a_completed_task_refuses_one_with_409(negotiation, people, order_data):
    process, task = negotiation
    actions.release_task(task, actor=people["market"])
    assert api(people["market"]).put(f"/api/tasks/{task.pk}/draft/", {"data": {"notes": "x"}},
                                     format="json").status_code == 403
    actions.claim_task(Task.objects.get(pk=task.pk), actor=people["market"])
    task.refresh_from_db()
    node = task.flow_task
    form = node.make_form(data=change_data(order_data), api=True, activation=node.activation_class(task),
                          user=people["market"])
    actions.complete_step(task, actor=people["market"], form=form,
                        signature_input=actions.SignatureInput(password="Demo-pass-2026", meaning="authored"))
    response = api(people["market"]).put(f"/api/tasks/{task.pk}/draft/", {"data": {"notes": "x"}}, format="json")
    assert response.status_code == 409 and response.json()["current_state"] == STATUS.DONE
    assert not TaskDraft.objects.exists()


def test_saving_a_draft_changes_no_record_or_process_and_audits_only_the_field_names(negotiation, people, order_data):
    process, task = negotiation
    client = web(people["market"])
    before = (RecordVersion.objects.count(), Signature.objects.count(), AuditEntry.objects.count())
    invalid = {**change_data(order_data), "notes": "秘密价格 secret 9.99", "category": "no-such-category",
               "lines": [{"product": "P-1001", "quantity": "not a number"}]}
    assert client.post(step_url(process, task), {**flatten(invalid), "save_draft": "1"}).status_code == 302
    assert TaskDraft.objects.get(task=task).data["lines"] == [{"product": "P-1001", "quantity": "not a number"}], \
        "a draft is saved without validation"
    assert (RecordVersion.objects.count(), Signature.objects.count()) == before[:2]
    new = list(AuditEntry.objects.order_by("seq")[before[2]:])
    assert [e.action for e in new] == ["task.draft_saved"]
    assert new[0].new_values["fields"] == sorted(["affected_departments", "category", "customer_confirmed", "lines",
                                                  "notes", "outcome"])
    assert "secret" not in str(new[0].new_values), "a draft's values are not copied into the audit trail"
    task.refresh_from_db()
    process.refresh_from_db()
    assert (task.status, process.status) == (STATUS.ASSIGNED, "NEW")
    assert open_task(process, "negotiate").pk == task.pk


def test_the_draft_api_keeps_only_the_forms_fields(negotiation, people):
    process, task = negotiation
    response = api(people["market"]).put(f"/api/tasks/{task.pk}/draft/", {"data": {
        "notes": "ok", "not_a_field": "dropped", "lines": [{"product": "P-1001", "bogus": 1}, "not an item"]}},
        format="json")
    assert response.status_code == 200
    assert response.json()["data"] == {"notes": "ok", "lines": [{"product": "P-1001"}]}
    assert api(people["market"]).put(f"/api/tasks/{task.pk}/draft/", {"data": ["a list"]},
                                     format="json").status_code == 400


def test_a_task_without_a_draft_opens_empty_and_the_browser_can_discard_a_draft(negotiation, people):
    process, task = negotiation
    client = web(people["market"])
    page = client.get(step_url(process, task)).content.decode()
    assert 'id="draft-saved"' not in page and 'id="discard-draft"' not in page
    client.post(step_url(process, task), {**flatten({"notes": "稍后 later"}), "save_draft": "1"})
    assert 'id="discard-draft"' in client.get(step_url(process, task)).content.decode()
    assert client.post(step_url(process, task), {"discard_draft": "1"}).status_code == 302
    assert not TaskDraft.objects.exists()
    assert AuditEntry.objects.filter(action="task.draft_discarded", object_id=str(task.pk)).count() == 1


def test_the_nightly_job_drops_drafts_left_on_finished_tasks_and_keeps_open_ones(negotiation, people, order_data):
    """A draft saved in the instant its step completed (PostgreSQL: after the completing statement began, before
    its row lock) or on a cancelled task stays behind the finished task; the nightly job drops it, audited per
    task by the system, and leaves the drafts of open tasks alone."""
    from core import diffs
    from inbox.tasks import drop_drafts_of_finished_tasks

    process, task = negotiation
    open_draft = TaskDraft.objects.create(task=task, user=people["market"], data={"notes": "稍后 later"})
    other = start(people["market"], order_data(number="PO-DR-2"))
    done = open_task(other, "review_quality")
    Task.objects.filter(pk=done.pk).update(status=STATUS.DONE)  # as the step left it, the draft committed after
    TaskDraft.objects.create(task=done, user=people["quality"], data={"notes": "迟到 late"})
    cancelled = open_task(other, "review_production")
    Task.objects.filter(pk=cancelled.pk).update(status=STATUS.CANCELED)
    TaskDraft.objects.create(task=cancelled, user=people["production"], data={"notes": "取消 cancelled"})
    TaskDraft.objects.create(task=cancelled, user=people["production_mgr"], data={"notes": "取消 cancelled"})

    assert drop_drafts_of_finished_tasks.apply().get() == 3
    assert list(TaskDraft.objects.all()) == [open_draft]
    entries = {int(e.object_id): e for e in AuditEntry.objects.filter(action="task.drafts_dropped")}
    assert set(entries) == {done.pk, cancelled.pk}
    assert entries[cancelled.pk].new_values == {"step": "review_production", "status": "CANCELED", "drafts": 2}
    assert entries[done.pk].actor_id is None or diffs.is_system_user(entries[done.pk].actor)
    with translation.override("zh-hans"):
        assert diffs._what(entries[cancelled.pk]) == "删除了已完成步骤上遗留的 2 份草稿"
    assert drop_drafts_of_finished_tasks.apply().get() == 0  # nothing left: nothing audited again
    from django.conf import settings
    assert settings.CELERY_BEAT_SCHEDULE["inbox-finished-task-drafts"]["task"] == drop_drafts_of_finished_tasks.name
    assert AuditEntry.objects.filter(action="task.drafts_dropped").count() == 2
