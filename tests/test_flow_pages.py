"""Pages that used to answer 500 for everyone: a flow's task list and the pages of a Celery job
task and of its neighbours (the job node had no task page to link to: NoReverseMatch 'index'),
and the flows section for an auditor (no flow to redirect to: ValueError)."""
import re

import pytest
from django.test import Client
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from evidence_support import make_auditor
from p1_driver import act, review_all, start
from procedures.order_review.flows import OrderReviewFlow

pytestmark = pytest.mark.django_db


def client_of(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def approved(people, order_data, monkeypatch):
    """An order approved by the Market manager: its render job has run (without rendering a PDF)
    and the process has ended."""
    monkeypatch.setattr(OrderReviewFlow.render_record, "_func", lambda activation: None)
    process = start(people["market"], order_data())
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "同意接单 Accepted"}, meaning="approved")
    return process


def task_of(process, node):
    return Task.objects.get(process=process, flow_task=node)


def test_a_flows_task_list_links_every_task_including_its_job_and_end(people, approved):
    job = task_of(approved, OrderReviewFlow.render_record)
    assert job.status == STATUS.DONE
    response = client_of(people["quality_mgr"]).get("/qms/flows/orderreview/tasks/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/qms/flows/orderreview/{approved.pk}/render_record/{job.pk}/"' in html
    links = set(re.findall(rf'href="/qms/flows/orderreview/{approved.pk}/(\w+)/\d+/"', html))
    assert {"start", "review_quality", "approve", "render_record"} <= links


def test_a_user_without_membership_is_refused_the_task_list(people, approved):
    from accounts.models import User

    outsider = User.objects.create_user("outsider", password="Outsider-pass-2026")
    assert client_of(outsider).get("/qms/flows/orderreview/tasks/").status_code == 403


def test_a_job_task_has_its_page_and_its_neighbours_link_to_it(people, approved):
    job = task_of(approved, OrderReviewFlow.render_record)
    client = client_of(people["quality_mgr"])
    page = client.get(f"/qms/flows/orderreview/{approved.pk}/render_record/{job.pk}/", follow=True)
    assert page.status_code == 200
    detail = client.get(f"/qms/flows/orderreview/{approved.pk}/render_record/{job.pk}/detail/")
    assert detail.status_code == 200
    # the tasks before and after the job link to it from their pages, and so does the process page
    neighbours = [*job.previous.all(), *Task.objects.filter(previous=job)]
    assert len(neighbours) == 2
    for task in neighbours:
        page = client.get(f"/qms/flows/orderreview/{approved.pk}/{task.flow_task.name}/{task.pk}/detail/")
        assert page.status_code == 200, task.flow_task.name
        assert f"/render_record/{job.pk}/" in page.content.decode(), task.flow_task.name
    process_page = client.get(f"/qms/flows/orderreview/{approved.pk}/")
    assert process_page.status_code == 200
    assert f"/render_record/{job.pk}/" in process_page.content.decode()


def test_a_waiting_job_task_has_its_page_too(people, order_data, monkeypatch):
    """A job still waiting for its worker (its queueing needs a commit that never comes here)."""
    from django.test import TestCase

    process = start(people["market"], order_data())
    review_all(process, people)
    with TestCase.captureOnCommitCallbacks(execute=False):
        from workflows import actions
        from p1_driver import open_task, sign

        task = open_task(process, "approve")
        actions.claim_task(task, actor=people["market_mgr"])
        task.refresh_from_db()
        form = task.flow_task.make_form(data={"conclusion": "同意"}, api=True,
                                        activation=task.flow_task.activation_class(task), user=people["market_mgr"])
        actions.complete_step(task, actor=people["market_mgr"], form=form, signature_input=sign("approved"))
    job = task_of(process, OrderReviewFlow.render_record)
    assert job.status == STATUS.SCHEDULED
    client = client_of(people["quality_mgr"])
    assert client.get(f"/qms/flows/orderreview/{process.pk}/render_record/{job.pk}/detail/").status_code == 200
    assert client.get("/qms/flows/orderreview/tasks/").status_code == 200


def test_the_flows_section_refuses_an_auditor_and_opens_for_staff(people):
    auditor = make_auditor(people)
    assert client_of(auditor).get("/qms/flows/").status_code == 403
    response = client_of(people["quality"]).get("/qms/flows/")
    assert response.status_code == 302 and response["Location"].startswith("/qms/flows/")


def test_the_menu_shows_the_flows_section_to_staff_and_not_to_an_auditor(people):
    auditor = make_auditor(people)
    auditor_page = client_of(auditor).get("/qms/records/")
    staff_page = client_of(people["quality"]).get("/qms/records/")
    assert auditor_page.status_code == staff_page.status_code == 200
    assert 'href="/qms/flows/' not in auditor_page.content.decode()
    assert 'href="/qms/flows/' in staff_page.content.decode()
