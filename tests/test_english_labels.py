"""English column headers and field names are capitalised in the page itself (capfirst), not by a CSS
text-transform that screen readers, copy-paste and the PDF never see; Chinese reads the same as before."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from evidence_support import approved_order

pytestmark = pytest.mark.django_db

CELL = re.compile(r"<(th|dt)\b[^>]*>\s*(?:<a [^>]*>)?\s*([^<\s][^<]*)", re.IGNORECASE)


def headers(html):
    return [text.strip() for _tag, text in CELL.findall(html) if text.strip()]


def test_no_css_capitalises_labels():
    css = "\n".join(path.read_text() for path in Path(settings.BASE_DIR, "static").rglob("*.css"))
    assert "capitalize" not in css and "::first-letter" not in css


def test_headers_and_field_names_start_with_a_capital_in_english_and_stay_chinese(people, order_data):
    record = approved_order(people, order_data)
    client = Client()
    client.force_login(people["quality_mgr"])
    for path in ("/qms/records/", "/qms/documents/", f"/qms/records/{record.number}/"):
        english = headers(client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode())
        assert english, path
        lower = [text for text in english if text[0].islower()]
        assert not lower, (path, lower)
    chinese = client.get("/qms/records/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Record number" not in chinese and "记录编号" in chinese


def test_a_flows_process_list_names_its_columns_in_the_readers_language(people, order_data):
    approved_order(people, order_data)
    client = Client()
    client.force_login(people["quality_mgr"])
    chinese = client.get("/qms/flows/orderreview/flows/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "流程编号" in chinese and "未完成任务" in chinese
    assert not {"Process id", "Brief", "Active tasks"} & set(re.findall(r">\s*([A-Z][a-z]+(?: [a-z]+)?)\s*<", chinese))
    english = client.get("/qms/flows/orderreview/flows/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Process No." in english and "Open tasks" in english
