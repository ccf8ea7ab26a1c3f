"""P3 bad input: each refused with a clear field error, through the API and the browser,
and nothing half-saved (CA-5, CA-3, 8D-3)."""
import pytest

from core.models import AuditEntry
from drivers import open_task
from procedures.capa.models import CapaAction, CapaCase, CapaStatus, EffectivenessCheck, WhyStep
from p3_support import (
    containment_data,
    day,
    describe_data,
    p3_drivers,
    plan_data,
    raise_data,
    root_cause_data,
    skip_rendering,
    validation_data,
    walk_to_actions,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture(params=["api", "web"])
def drive(request, people, monkeypatch):
    skip_rendering(monkeypatch)
    return p3_drivers()[request.param]()


def errors(drive):
    """The field errors the last refused step reported (API body, or the page's text)."""
    response = drive.last_response
    if drive.name == "api":
        return response.json()
    return response.content.decode()


def at_step(drive, step):
    pid = drive.start("quality", raise_data())
    for name, who, data in [("describe", "quality", describe_data()), ("contain", "engineering", containment_data()),
                            ("analyse", "engineering", root_cause_data())]:
        if name == step:
            break
        assert drive.do(who, pid, name, data) == 200
    return pid, CapaCase.objects.get(record__process_id=pid)


def unchanged(case, version, status):
    case.refresh_from_db()
    case.record.refresh_from_db()
    return case.status == status and case.record.current_version == version


@pytest.mark.parametrize("bad, field, message", [
    ({"owner": ""}, "actions[0].owner", None),
    ({"due_date": ""}, "actions[0].due_date", None),
    ({"due_date": day(-1)}, "actions[0].due_date", "The due date may not be in the past."),
])
def test_an_action_without_owner_or_due_date_or_due_in_the_past_is_refused(drive, bad, field, message):
    pid, case = at_step(drive, "plan")
    version = case.record.current_version
    data = plan_data("production")
    data["actions"][0].update(bad)
    assert drive.do("engineering", pid, "plan", data) == 400
    body = errors(drive)
    if drive.name == "api":
        assert field in body["errors"], body
        if message:
            assert message in body["errors"][field]
    elif message:
        assert message in body
    assert unchanged(case, version, CapaStatus.PLAN) and not CapaAction.objects.filter(case=case).exists()
    assert not AuditEntry.objects.filter(action="capa.actions_planned").exists()


@pytest.mark.parametrize("bad, field, message", [
    ({"root_cause": ""}, "root_cause", "This field is required."),
    ({"root_cause": "   "}, "root_cause", "This field is required."),
    ({"whys": [{"question": "为什么? why?", "answer": ""}]}, "whys[0].answer", "Every why needs its answer."),
    ({"whys": []}, "whys", "Add at least one line."),
])
def test_an_empty_root_cause_or_an_unanswered_why_is_refused(drive, bad, field, message):
    pid, case = at_step(drive, "analyse")
    version = case.record.current_version
    assert drive.do("engineering", pid, "analyse", {**root_cause_data(), **bad}) == 400
    body = errors(drive)
    if drive.name == "api":
        assert body["errors"][field] == [message], body  # that field, and for that reason
    else:
        assert message in body
    assert unchanged(case, version, CapaStatus.ROOT_CAUSE) and not WhyStep.objects.filter(case=case).exists()


def test_a_verification_date_before_the_actions_due_dates_or_in_the_past_is_refused(drive):
    pid = drive.start("quality", raise_data())
    walk_to_actions(drive, pid, owners=("production",))  # due in 10 days
    assert drive.do("production", pid, "do_action", {"outcome": "done", "evidence": "完成 done"}) == 200
    case = CapaCase.objects.get(record__process_id=pid)
    version = case.record.current_version
    for days in (9, -1):
        assert drive.do("quality_mgr", pid, "validate", validation_data(days), meaning="approved") == 400
        if drive.name == "api":
            assert "verification_date" in errors(drive)["errors"]
    assert drive.do("quality_mgr", pid, "validate", {**validation_data(30), "containment_removed": "no"},
                    meaning="approved") == 400
    assert unchanged(case, version, CapaStatus.IMPLEMENTATION) and not EffectivenessCheck.objects.exists()


def test_an_extension_to_an_earlier_date_or_without_reason_is_refused(drive):
    pid = drive.start("quality", raise_data())
    walk_to_actions(drive, pid, owners=("production",))
    action = CapaAction.objects.get()
    for data in ({"outcome": "extension", "new_due_date": day(5), "reason": "太忙 busy"},
                 {"outcome": "extension", "new_due_date": day(30), "reason": ""}):
        assert drive.do("production", pid, "do_action", data) == 400
    action.refresh_from_db()
    assert action.due_date.isoformat() == day(10) and not action.extensions.exists()
    assert open_task(pid, "do_action", "production").owner.username == "production"


def test_raising_by_api_needs_a_known_source_and_a_reference(people):
    from drivers import ApiDriver

    api = ApiDriver(start_url="/api/capas/")
    response = api.post_start("quality", raise_data(source="rumour"))
    assert response.status_code == 400 and "source" in response.json()["errors"]
    response = api.post_start("quality", raise_data(source="audit_finding", reference=""))
    assert response.status_code == 400 and "source_reference" in response.json()["errors"]
    response = api.post_start("quality", {**raise_data(), "title": ""})
    assert response.status_code == 400 and "title" in response.json()["errors"]
    assert not CapaCase.objects.exists()
    response = api.post_start("quality", raise_data(source="manual", reference=""))
    assert response.status_code == 201 and response.json()["record"].startswith("CA-")
    case = CapaCase.objects.get()
    assert case.source == "manual" and case.raised_by.username == "quality"
