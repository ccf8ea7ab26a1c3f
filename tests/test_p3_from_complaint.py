"""CA-1: a justified P2 return whose CAPA decision is "yes" starts P3, linked both ways
(the P2 case names the CAPA report; the CAPA names the case), in the API and the pages."""
import pytest
from django.test import Client
from viewflow.workflow.models import Process

from core.models import Record
from drivers import open_steps
from procedures.capa.models import CapaCase, CapaStatus
from procedures.complaints.models import ComplaintCase
from p2_support import capa, disposition, p2_drivers, walk_to_disposition
from p2_support import skip_rendering as skip_p2_rendering
from p3_support import closure_data, day, fire_timers, prevention_data, skip_rendering, validation_data, \
    verification_data, walk_to_actions

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("channel", ["api", "web"])
def test_a_justified_return_starts_a_capa_linked_both_ways(channel, people, monkeypatch):
    skip_p2_rendering(monkeypatch)
    skip_rendering(monkeypatch)
    p2 = p2_drivers()[channel]()
    pid = walk_to_disposition(p2)
    assert p2.do("quality_mgr", pid, "dispose", disposition(("scrap", "120")), meaning="approved") == 200
    assert open_steps(pid) == ["decide_capa"]
    assert p2.do("quality_mgr", pid, "decide_capa", capa(True), meaning="reviewed") == 200

    complaint = ComplaintCase.objects.get(record__process_id=pid)
    capa_case = CapaCase.objects.get(complaint_case=complaint)
    # both ways: the P2 case names the CAPA; the CAPA names the case as its source
    assert complaint.capa_reference == capa_case.record.number
    assert capa_case.source == "return" and capa_case.source_reference == complaint.record.number
    assert capa_case.status == CapaStatus.DESCRIBE and "P-1001" in capa_case.product_text
    feedback = Record.objects.get(pk=complaint.record_id).get_version().data
    assert feedback["capa"]["reference"] == capa_case.record.number
    capa_pid = capa_case.record.process_id
    assert Process.objects.get(pk=capa_pid).flow_class.__name__ == "CapaFlow"
    assert open_steps(capa_pid) == ["describe"]

    from api_driver import client_for

    api = client_for("quality")
    listing = api.get(f"/api/capas/?complaint={complaint.record.number}").json()["results"]
    assert [row["number"] for row in listing] == [capa_case.record.number]
    detail = api.get(f"/api/capas/{capa_case.record.number}/").json()
    assert detail["complaint"] == complaint.record.number and detail["report"]["complaint"] == complaint.record.number
    record = api.get(f"/api/records/{complaint.record_id}/")  # the records API is addressed by id
    assert record.status_code == 200
    assert record.json()["number"] == complaint.record.number
    assert record.json()["data"]["capa"]["reference"] == capa_case.record.number  # the current version's data

    # the CAPA's pages link the case; the case's record links the CAPA
    browser = Client()
    browser.force_login(people["quality"])
    process_page = browser.get(f"/qms/flows/capa/{capa_pid}/")
    assert process_page.status_code == 200
    card = process_page.content.decode().split('id="capa-process-data"', 1)[1]
    assert complaint.record.number in card, "the CAPA's process page names the case it came from"
    record_page = browser.get(f"/qms/records/{complaint.record.number}/")
    assert record_page.status_code == 200 and capa_case.record.number in record_page.content.decode()
    step = open_task_url(capa_pid)
    assert browser.post(step.replace("/execute/", "/assign/")).status_code == 302  # claim, then open
    page = browser.get(step)
    assert page.status_code == 200
    assert complaint.record.number in page.content.decode()


def open_task_url(pid):
    from drivers import open_task

    task = open_task(pid, "describe")
    return f"/qms/flows/capa/{pid}/describe/{task.pk}/execute/"


def test_closing_the_capa_marks_the_complaint_capa_closed(people, monkeypatch):
    skip_p2_rendering(monkeypatch)
    skip_rendering(monkeypatch)
    p2 = p2_drivers()["api"]()
    pid = walk_to_disposition(p2)
    p2.do("quality_mgr", pid, "dispose", disposition(("scrap", "120")), meaning="approved")
    p2.do("quality_mgr", pid, "decide_capa", capa(True), meaning="reviewed")
    complaint = ComplaintCase.objects.get(record__process_id=pid)
    capa_case = CapaCase.objects.get(complaint_case=complaint)
    from drivers import ApiDriver

    drive = ApiDriver(start_url="/api/capas/")
    capa_pid = capa_case.record.process_id
    walk_to_actions(drive, capa_pid, owners=("production",))
    assert drive.do("production", capa_pid, "do_action", {"outcome": "done", "evidence": "完成 done"}) == 200
    assert drive.do("quality_mgr", capa_pid, "validate", validation_data(30), meaning="approved") == 200
    from test_p3_paths import fire_on

    assert fire_on(day(30)) == 1
    assert drive.do("quality", capa_pid, "verify", verification_data(True), meaning="verified") == 200
    assert drive.do("engineering", capa_pid, "prevent", prevention_data()) == 200
    assert complaint.capa_closed_at is None
    assert drive.do("quality_mgr", capa_pid, "close", closure_data(), meaning="approved") == 200
    complaint.refresh_from_db()
    assert complaint.capa_closed_at is not None
    fire_timers()
