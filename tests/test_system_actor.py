"""What the system does is credited to the system (issue 13, "system actions credited to the system"): viewflow's
automatic nodes (Function, If, Join, End) and a procedure's own automatic steps (P1 "all reviews in", P2 hold
release and closing, P3 opening the effectiveness check) are audited with no person as actor (or the scheduler
account), and the entry keeps whose action set them off: the record page says "System … (triggered by 王芳)"."""
import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext as _
from evidence_support import approved_order, make_auditor
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from accounts.models import scheduler_user
from core import audit, context, diffs
from core.models import AuditEntry

pytestmark = pytest.mark.django_db

HUMAN = ("HUMAN", "HUMAN_START")


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def order(people, order_data):
    return approved_order(people, order_data)


def test_automatic_nodes_are_audited_as_the_system(order, people):
    tasks = Task.objects.filter(process_id=order.process_id)
    automatic = {str(t.pk) for t in tasks if t.flow_task_type not in HUMAN}
    human = {str(t.pk) for t in tasks if t.flow_task_type in HUMAN}
    assert automatic and human
    entries = AuditEntry.objects.filter(process_id=order.process_id, object_type="viewflow.task")
    system = [e for e in entries if e.object_id in automatic]
    assert system and all(e.actor_id is None and e.actor_name == "system" for e in system)
    # set off by a person: the entry names them (the last review reaches the Join that closes the round); a
    # background job (the PDF, run after the commit) has no person behind it
    close_round = {str(t.pk) for t in tasks if t.flow_task.name == "route_verdicts"}
    assert close_round and all(e.new_values.get("triggered_by") == people["materials"].printed_name
                               for e in system if e.object_id in close_round)
    # the people's own steps stay theirs
    assert all(e.actor_id for e in entries if e.object_id in human and e.action == "task.assigned")


def test_all_reviews_in_is_the_systems_version_triggered_by_the_last_review(order, people):
    complete = next(v for v in order.versions.all() if v.reason == "reviews complete")
    assert complete.created_by == scheduler_user()
    entry = AuditEntry.objects.get(record=order, action="record.version_created", new_values__version=complete.version)
    assert entry.actor == scheduler_user()
    assert entry.new_values["triggered_by"] == people["materials"].printed_name  # the fourth and last review
    with translation.override("en"):
        assert diffs.who(entry) == ("System", True)
    # the person who started the process is not credited with the system's steps
    starter = people["market"]
    assert not AuditEntry.objects.filter(record=order, actor=starter, action="record.version_created",
                                         new_values__version=complete.version).exists()


def test_the_record_page_and_the_api_say_system_and_who_set_it_off(order, people):
    client = Client()
    client.force_login(people["quality"])
    reviewer = people["materials"].printed_name
    english = text_of(client.get(f"/qms/records/{order.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert re.search(rf"System added version \d+ \(triggered by {re.escape(reviewer)}\)", english), english[-3000:]
    chinese = text_of(client.get(f"/qms/records/{order.number}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    with translation.override("zh-hans"):  # (the words as the catalogue has them, merged or not yet)
        system, triggered = diffs.system_name(), _("triggered by %(name)s") % {"name": reviewer}
    assert system == "系统" and re.search(rf"{system} \S+ \({re.escape(triggered)}\)", chinese), chinese[-3000:]
    api = APIClient()
    api.force_authenticate(make_auditor(people))
    trail = api.get(f"/api/records/{order.pk}/history/", HTTP_ACCEPT_LANGUAGE="en").json()["audit"]
    assert any(line["system"] and line["who"] == "System" and line["triggered_by"] == reviewer for line in trail)


def test_an_entry_logged_inside_a_system_step_notes_the_person_only_when_the_system_acts(people):
    from django.db import transaction

    person, system = people["quality"], scheduler_user()
    with transaction.atomic(), context.acting_as(person):
        with context.acting_as_system(system):
            by_system = audit.log("test.system_step", ("thing", "1", "x"), actor=system, new={"a": 1})
            by_person = audit.log("test.person_step", ("thing", "1", "x"), actor=person, new={"a": 1})
            nested = None
            with context.acting_as_system(None):
                nested = audit.log("test.nested", ("thing", "1", "x"), actor=None)
        after = audit.log("test.after", ("thing", "1", "x"), actor=None)
    assert by_system.new_values == {"a": 1, "triggered_by": person.printed_name}
    assert by_person.new_values == {"a": 1}
    assert nested.new_values == {"triggered_by": person.printed_name}  # still the person, not the system account
    assert after.new_values is None  # outside the system step: nothing added
    assert context.current_actor() is None and context.triggered_by() is None


def test_a_complaint_closed_by_the_flow_is_the_systems_after_the_last_step(people):
    from p2_support import intake, inspection, judgement, p2_drivers

    from procedures.complaints.models import ComplaintCase

    drive = p2_drivers()["api"]()
    pid = drive.start("market", intake())
    assert drive.do("quality", pid, "inspect", inspection(defective="0"), meaning="authored") == 200
    assert drive.do("quality_mgr", pid, "judge", judgement(False), meaning="reviewed") == 200
    assert drive.do("market", pid, "negotiate", {"outcome": "goods_sent_back", "amount": "80",
                                                 "notes": "货物退回客户 goods back"}, meaning="authored") == 200
    case = ComplaintCase.objects.get(record__process_id=pid)
    for action in ("complaint.closed", "lot.released"):
        entry = AuditEntry.objects.filter(process_id=pid, action=action).last() or \
            AuditEntry.objects.filter(action=action).last()
        assert entry is not None, action
        with translation.override("en"):
            assert diffs.who(entry) == ("System", True), (action, entry.actor_name)
        assert entry.new_values["triggered_by"] == people["market"].printed_name, action
    closed = AuditEntry.objects.get(action="complaint.closed", record=case.record)
    assert closed.actor == scheduler_user()
    # the End node finishes the process (here after the background job that renders the records): the system's
    done = AuditEntry.objects.get(process_id=pid, action="process.status_changed", new_values__status="DONE")
    assert done.actor_id is None
    with translation.override("en"):
        assert diffs.describe(done).who == "System"
