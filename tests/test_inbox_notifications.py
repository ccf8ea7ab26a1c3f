"""Notifications: on assignment by the flow, rejection, process completion, reminders and
escalations; each user's channel preferences honoured; e-mails in the recipient's
language; the notification list in the browser and the API."""
import datetime
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.test import Client, TestCase
from viewflow.workflow.models import Process

from api_driver import client_for
from procedures.complaints.tasks import compile_periodic_complaint_analysis
from inbox import escalation
from inbox.models import Notification, NotificationPreference
from inbox.notify import notify, set_preferences
from p1_driver import act, review_all, start

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def mails_to(user):
    return [m for m in mail.outbox if user.email in m.to]


def test_a_task_the_flow_assigns_directly_notifies_its_owner_in_app_and_by_email(people):
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert compile_periodic_complaint_analysis()
    note = Notification.objects.get(recipient=people["market_mgr"], kind="assigned")
    assert "客户投诉与退货" in note.title and note.task.owner == people["market_mgr"]
    assert note.read_at is None
    [message] = mails_to(people["market_mgr"])
    assert note.link.startswith("/qms/flows/complaint/") and note.link in message.body
    assert message.subject == note.title


def test_claiming_a_task_oneself_sends_no_assignment_notification(people, order_data):
    from p1_driver import open_task
    from workflows import actions

    process = start(people["market"], order_data())
    actions.claim_task(open_task(process, "review_quality"), actor=people["quality"])
    assert not Notification.objects.filter(recipient=people["quality"], kind="assigned").exists()


def test_a_rejection_notifies_the_starter_and_the_process_completion_too(people, order_data):
    process = start(people["market"], order_data())
    review_all(process, people)
    mail.outbox.clear()
    act(process, "approve", people["market_mgr"], {"conclusion": "不同意 Not agreed"}, meaning="rejected",
        reason="价格过低 price too low")
    rejected = Notification.objects.get(recipient=people["market"], kind="rejected")
    assert "价格过低 price too low" in rejected.body and rejected.process_id == process.pk
    assert not Notification.objects.filter(recipient=people["market_mgr"], kind="rejected").exists()  # the signer
    assert Process.objects.get(pk=process.pk).status == "DONE"
    completed = Notification.objects.get(recipient=people["market"], kind="process_completed")
    assert completed.process_id == process.pk
    assert len(mails_to(people["market"])) == 2


def test_email_off_gives_the_in_app_row_without_mail_and_in_app_off_gives_mail_without_row(people, order_data):
    set_preferences(people["market"], {"rejected": {"email": False}, "process_completed": {"in_app": False}})
    process = start(people["market"], order_data())
    review_all(process, people)
    mail.outbox.clear()
    act(process, "approve", people["market_mgr"], {"conclusion": "不同意 Not agreed"}, meaning="rejected",
        reason="价格过低 price too low")
    assert Notification.objects.filter(recipient=people["market"], kind="rejected").count() == 1
    assert not Notification.objects.filter(recipient=people["market"], kind="process_completed").exists()
    [message] = mails_to(people["market"])
    assert "订单/合同评审" in message.subject  # the completion, not the rejection


def test_the_email_is_written_in_the_recipients_language(people, order_data):
    english = people["quality_mgr"]
    english.preferred_language = "en"
    english.save(update_fields=["preferred_language"])
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, tzinfo=TZ), tick=False):
        start(people["market"], order_data())
    mail.outbox.clear()
    with time_machine.travel(datetime.datetime(2026, 11, 27, 1, tzinfo=TZ), tick=False):
        with TestCase.captureOnCommitCallbacks(execute=True):
            escalation.send_reminders_and_escalations()  # level 1 to the Quality queue: quality, quality_mgr
    [chinese] = [m for m in mails_to(people["quality"]) if "订单/合同评审" in m.subject]
    [in_english] = [m for m in mails_to(english) if "Order / contract review" in m.subject]
    assert "订单/合同评审" not in in_english.subject + in_english.body
    assert "Order / contract review" not in chinese.subject
    assert Notification.objects.get(recipient=english, kind="escalation").title == in_english.subject


def test_a_user_without_an_email_address_gets_the_in_app_row_and_no_mail(people):
    people["finance"].email = ""
    people["finance"].save(update_fields=["email"])
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        notify(people["finance"], "reminder", "Due soon")
    assert mail.outbox == [] and Notification.objects.filter(recipient=people["finance"]).count() == 1


# --- the notification list ----------------------------------------------------------------------------


def _three(user):
    first = notify(user, "assigned", "first")
    second = notify(user, "reminder", "second")
    third = notify(user, "escalation", "third")
    Notification.objects.filter(pk=first.pk).update(created=first.created - datetime.timedelta(hours=2))
    Notification.objects.filter(pk=second.pk).update(created=second.created - datetime.timedelta(hours=1))
    return first, second, third


def test_api_lists_my_notifications_unread_first_then_newest_and_marks_them_read(people):
    first, second, third = _three(people["quality"])
    notify(people["production"], "assigned", "not mine")
    client = client_for("quality")
    assert client.post(f"/api/notifications/{third.pk}/read/").json()["read"] is True
    body = client.get("/api/notifications/").json()
    assert body["unread"] == 2
    assert [n["title"] for n in body["results"]] == ["second", "first", "third"]
    assert [n["title"] for n in client.get("/api/notifications/?unread=1").json()["results"]] == ["second", "first"]
    assert client.post("/api/notifications/read-all/").json() == {"marked": 2}
    assert client.get("/api/notifications/").json()["unread"] == 0


def test_one_cannot_read_or_mark_another_persons_notifications(people):
    theirs = notify(people["production"], "assigned", "theirs")
    client = client_for("quality")
    assert client.post(f"/api/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post("/api/notifications/read-all/").json() == {"marked": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    web = Client()
    web.force_login(people["quality"])
    assert web.post(f"/qms/notifications/{theirs.pk}/read/").status_code == 403
    assert "theirs" not in web.get("/qms/notifications/").content.decode()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_preferences_through_the_api_and_bad_input_saves_nothing(people):
    client = client_for("quality")
    prefs = client.get("/api/me/notification-preferences/").json()
    assert prefs["assigned"] == {"email": True, "in_app": True}
    assert set(prefs) == {"assigned", "reminder", "escalation", "rejected", "process_completed", "calendar", "report"}
    changed = client.put("/api/me/notification-preferences/", {"reminder": {"email": False}}, format="json")
    assert changed.status_code == 200 and changed.json()["reminder"] == {"email": False, "in_app": True}
    bad = client.put("/api/me/notification-preferences/", {"reminder": {"email": True}, "nonsense": {}},
                     format="json")
    assert bad.status_code == 400 and "nonsense" in bad.json()["errors"]
    not_bool = client.put("/api/me/notification-preferences/", {"assigned": {"email": "yes"}}, format="json")
    assert not_bool.status_code == 400
    assert NotificationPreference.objects.get(user=people["quality"], kind="reminder").email is False
    assert not NotificationPreference.objects.filter(user=people["quality"], kind="assigned").exists()


def test_browser_notification_list_unread_count_mark_read_and_preferences(people):
    first, second, third = _three(people["quality"])
    web = Client()
    web.force_login(people["quality"])
    page = web.get("/qms/notifications/").content.decode()
    assert page.index("<strong>third") < page.index("<strong>second") < page.index("<strong>first")  # newest first
    assert '<span id="unread-count">3</span>' in page
    web.post(f"/qms/notifications/{first.pk}/read/")
    assert '<span id="unread-count">2</span>' in web.get("/qms/dashboard/").content.decode()
    web.post("/qms/notifications/read-all/")
    assert Notification.objects.filter(recipient=people["quality"], read_at__isnull=True).count() == 0
    web.post("/qms/notifications/preferences/", {"assigned-in_app": "on", "reminder-email": "on"})
    prefs = {p.kind: (p.email, p.in_app) for p in NotificationPreference.objects.filter(user=people["quality"])}
    assert prefs["assigned"] == (False, True) and prefs["reminder"] == (True, False)
    assert prefs["escalation"] == (False, False)


def test_a_completion_notification_links_to_the_process(people, order_data):
    process = start(people["market"], order_data())
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "不同意 Not agreed"}, meaning="rejected",
        reason="价格过低 price too low")
    completed = Notification.objects.get(recipient=people["market"], kind="process_completed")
    assert completed.link == f"/qms/flows/orderreview/{process.pk}/"
    rejected = Notification.objects.get(recipient=people["market"], kind="rejected")
    assert rejected.link.startswith("/qms/records/OR-")
