"""Issue 13: a process page says what the process is about in words (its subject and records), not
viewflow's dump of the process model's fields ("False", raw codes)."""
import re

import pytest
from django.test import Client

from core.models import Record
from flow_driver import start
from inbox.signals import process_link
from procedures.order_review.flows import OrderReviewFlow

pytestmark = pytest.mark.django_db


def test_the_order_review_process_page_names_its_subject_and_records(people, order_data):
    process = start(OrderReviewFlow, "start", people["market"], order_data(number="PO-PAGE-1"))
    record = Record.objects.get(process_id=process.pk)
    client = Client()
    client.force_login(people["market"])
    response = client.get(process_link(process), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    card = response.content.decode().split('id="process-data"', 1)[1].split("</section>\n</div>", 1)[0]
    subject = OrderReviewFlow.subject(process)
    assert subject.startswith(record.number) and subject in card  # as the task lists say it
    assert "East China Electronics" in card  # the customer, in the reader's language
    assert f'href="/qms/records/{record.number}/"' in card
    text = re.sub(r"<[^>]+>", " ", card)
    for raw in ("False", "True", "None", "artifact", "flow_class"):
        assert not re.search(rf"\b{raw}\b", text), raw


def test_the_cancel_button_is_shown_only_to_those_who_may_cancel(people, order_data, admin_user):
    process = start(OrderReviewFlow, "start", people["market"], order_data(number="PO-PAGE-2"))
    process.status = "NEW"  # a process not yet under way: viewflow offers Cancel for those
    process.save(update_fields=["status"])
    cancel = f"/{process.pk}/cancel/"
    staff, admin = Client(), Client()
    staff.force_login(people["market"])
    admin.force_login(admin_user)
    assert cancel not in staff.get(process_link(process)).content.decode()
    assert staff.get(process_link(process).rstrip("/") + "/cancel/").status_code == 403
    assert cancel in admin.get(process_link(process)).content.decode()
