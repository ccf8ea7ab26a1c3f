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
