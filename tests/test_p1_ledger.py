"""The contract ledger (合同台账, QR-MK-003; issue 14 items 1, 2 and the ledger shipments of item 6):
the ledger through the API and the browser, shipments by the finished-goods store (over-shipment,
held lots, closed and cancelled lines), the role matrix, the CSV / XLSX exports, the printed ledger's
PDF, and a cancellation change notice from start to the production / materials sign-for."""
import csv
import datetime
import io
import shutil
import subprocess

import pytest
from django.test import Client, TestCase
from django.utils import timezone

from api_driver import client_for
from core.models import AuditEntry, Record
from drivers import ApiDriver, WebDriver, open_steps
from test_p1_paths import approve, plan, review_round  # the P1 steps as the path tests walk them
from pdf_face import cjk_face
from procedures.order_review.models import (
    LedgerEntry, LedgerShipment, LedgerStatus, OrderReviewStatus,
)

pytestmark = pytest.mark.django_db

TODAY = lambda: timezone.localdate().isoformat()  # noqa: E731


def approved_order(drive, order_data, future, number="PO-LEDGER-1", with_plan=True):
    """An order reviewed, approved and planned: its ledger line (ordered 500 P-1001 + 300 P-1002)."""
    pid = drive.start("market", order_data(number=number))
    review_round(drive, pid)
    assert approve(drive, pid) == 200
    if with_plan:
        assert plan(drive, pid, future) == 200
    return LedgerEntry.objects.get(order_review__record__process_id=pid)


def ship(username, entry, **data):
    body = {"shipped_on": TODAY(), "product": "P-1001", "quantity": "100", "lot_number": "L2026-1201",
            "delivery_note": "DN-001", **data}
    return client_for(username).post(f"/api/ledger/{entry.pk}/shipments/", body, format="json")


@pytest.fixture
def entry(people, order_data, future):
    return approved_order(ApiDriver(), order_data, future)


# --- the ledger through the API ----------------------------------------------------------------------------------


def test_the_ledger_lists_each_accepted_order_with_filters_and_pages(entry, order_data, future):
    other = approved_order(ApiDriver(), order_data, future, number="PO-LEDGER-2", with_plan=False)
    api = client_for("quality")
    body = api.get("/api/ledger/").json()
    assert body["count"] == 2 and {"next", "previous", "results"} <= set(body)
    line = next(r for r in body["results"] if r["contract_number"] == "PO-LEDGER-1")
    assert line["status"] == "open" and line["customer_code"] == "C001"
    assert float(line["ordered_quantity"]) == 800 and float(line["open_quantity"]) == 800
    assert float(line["shipped_quantity"]) == 0 and line["order_record_number"].startswith("OR-")
    assert [r["revision"] for r in line["revisions"]] == [0] and line["shipments"] == []
    assert [r["contract_number"] for r in api.get("/api/ledger/?number=LEDGER-2").json()["results"]] == ["PO-LEDGER-2"]
    assert api.get("/api/ledger/?customer=C001").json()["count"] == 2
    assert api.get("/api/ledger/?customer=C002").json()["count"] == 0
    assert api.get("/api/ledger/?status=shipped").json()["count"] == 0
    assert api.get("/api/ledger/?status=open").json()["count"] == 2
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert api.get(f"/api/ledger/?period_from={tomorrow}").json()["count"] == 0
    assert api.get(f"/api/ledger/?period_from={TODAY()}&period_to={TODAY()}").json()["count"] == 2
    assert api.get("/api/ledger/?page_size=1").json()["count"] == 2
    bad = api.get("/api/ledger/?status=nonsense")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]
    assert api.get("/api/ledger/?period_from=2026-13-45").status_code == 400
    detail = api.get(f"/api/ledger/{other.pk}/").json()
    assert detail["contract_number"] == "PO-LEDGER-2"
    assert api.get("/api/ledger/999999/").status_code == 404


def test_the_store_records_shipments_until_the_line_closes(entry):
    response = ship("warehouse", entry, quantity="200", lot_number="L-A", delivery_note="DN-A")
    assert response.status_code == 201, response.content
    line = response.json()["line"]
    assert float(line["shipped_quantity"]) == 200 and float(line["open_quantity"]) == 600 and line["status"] == "open"
    assert line["shipments"][0]["lot_number"] == "L-A" and line["shipments"][0]["recorded_by"] == "朱勇 Zhu Yong"
    assert ship("warehouse", entry, quantity="300", delivery_note="DN-B").status_code == 201
    last = ship("warehouse", entry, product="P-1002", quantity="300", delivery_note="DN-C")
    assert last.status_code == 201
    entry.refresh_from_db()
    assert entry.status == LedgerStatus.SHIPPED and entry.open_quantity == 0 and entry.shipped_quantity == 800
    audits = AuditEntry.objects.filter(action="ledger.shipment_recorded", record=entry.order_review.record)
    assert audits.count() == 3
    assert audits.order_by("seq").last().new_values["status"] == "shipped"
    # a closed line takes no more shipments
    closed = ship("warehouse", entry, quantity="1", delivery_note="DN-D")
    assert closed.status_code == 409 and entry.contract_number in closed.json()["detail"]
    assert LedgerShipment.objects.filter(entry=entry).count() == 3


def test_over_shipment_is_refused_with_nothing_saved(entry):
    assert ship("warehouse", entry, quantity="450").status_code == 201
    before = AuditEntry.objects.count()
    response = ship("warehouse", entry, quantity="51", delivery_note="DN-OVER")
    assert response.status_code == 400, response.content
    assert "quantity" in response.json()["errors"] and "50" in response.json()["errors"]["quantity"][0]
    entry.refresh_from_db()
    assert entry.shipped_quantity == 450 and entry.open_quantity == 350 and entry.status == LedgerStatus.OPEN
    assert LedgerShipment.objects.filter(entry=entry).count() == 1
    assert AuditEntry.objects.count() == before
    # bad input: each field named, nothing saved
    bad = ship("warehouse", entry, quantity="-1", lot_number="", delivery_note="", shipped_on="2026-02-30",
               product="P-9999")
    assert bad.status_code == 400
    assert {"quantity", "lot_number", "delivery_note", "shipped_on", "product"} <= set(bad.json()["errors"])
    future = ship("warehouse", entry, shipped_on=(timezone.localdate() + datetime.timedelta(days=3)).isoformat())
    assert future.status_code == 400 and "shipped_on" in future.json()["errors"]
    unknown = ship("warehouse", entry, colour="red")
    assert unknown.status_code == 400 and "colour" in unknown.json()["errors"]
    assert LedgerShipment.objects.filter(entry=entry).count() == 1 and AuditEntry.objects.count() == before


def test_a_lot_on_hold_is_not_shipped_409_naming_the_hold_and_the_report(entry, monkeypatch):
    from p2_support import API_START, inspection, intake, skip_rendering

    from procedures.complaints.models import AnomalyReport, Lot

    skip_rendering(monkeypatch)
    p2 = ApiDriver(start_url=API_START)
    pid = p2.start("market", intake(lot="L2026-0815", product="P-1001"))
    assert p2.do("quality", pid, "inspect", inspection(), meaning="authored") == 200
    lot = Lot.objects.get(number="L2026-0815")
    assert lot.on_hold
    report = AnomalyReport.objects.get(case__record__process_id=pid).record.number
    before = AuditEntry.objects.count()
    response = ship("warehouse", entry, lot_number="L2026-0815")
    assert response.status_code == 409, response.content
    assert "L2026-0815" in response.json()["detail"] and report in response.json()["detail"]
    entry.refresh_from_db()
    assert entry.shipped_quantity == 0 and not entry.shipments.exists() and AuditEntry.objects.count() == before
    # the same lot number of another product is no held lot
    assert ship("warehouse", entry, product="P-1002", lot_number="L2026-0815").status_code == 201


# --- who may do what ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["market", "market_mgr", "quality", "quality_mgr", "production", "engineering",
                                      "materials", "finance", "gm"])
def test_only_the_finished_goods_store_records_shipments(entry, username):
    response = ship(username, entry)
    assert response.status_code == 403, (username, response.content)
    assert not LedgerShipment.objects.exists()


@pytest.mark.parametrize("username", ["market", "quality", "production", "materials", "finance", "warehouse", "gm"])
def test_every_department_sees_the_ledger(entry, username):
    assert client_for(username).get("/api/ledger/").json()["count"] == 1
    client = Client()
    client.force_login(entry.order_review.started_by.__class__.objects.get(username=username))
    assert client.get("/qms/ledger/").status_code == 200


def test_a_user_without_a_department_sees_no_ledger(entry):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    nobody = get_user_model().objects.create_user("nobody", password="Nobody-pass-2026", display_name="Nobody")
    api = APIClient()
    api.force_authenticate(nobody)
    assert api.get("/api/ledger/").status_code == 403
    assert api.get(f"/api/ledger/{entry.pk}/").status_code == 403
    assert api.post(f"/api/ledger/{entry.pk}/shipments/", {}, format="json").status_code == 404
    client = Client()
    client.force_login(nobody)
    assert client.get("/qms/ledger/").status_code == 403
    assert client.get("/qms/ledger/export.csv").status_code == 403


# --- the browser ----------------------------------------------------------------------------------------------------


def test_the_ledger_page_and_the_shipment_form_in_the_browser(entry, people):
    store = Client()
    store.force_login(people["warehouse"])
    page = store.get("/qms/ledger/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "PO-LEDGER-1" in html and 'class="qms-table qms-cards"' in html
    line = store.get(f"/qms/ledger/{entry.pk}/")
    assert line.status_code == 200 and 'id="shipment-form"' in line.content.decode()
    done = store.post(f"/qms/ledger/{entry.pk}/", {"shipped_on": TODAY(), "product": "P-1001", "quantity": "120",
                                                   "lot_number": "L-WEB", "delivery_note": "DN-WEB"})
    assert done.status_code == 302
    entry.refresh_from_db()
    assert entry.shipped_quantity == 120 and entry.shipments.get().delivery_note == "DN-WEB"
    over = store.post(f"/qms/ledger/{entry.pk}/", {"shipped_on": TODAY(), "product": "P-1001", "quantity": "381",
                                                   "lot_number": "L-WEB", "delivery_note": "DN-WEB2"})
    assert over.status_code == 400 and 'id="shipment-errors"' in over.content.decode()
    assert entry.shipments.count() == 1
    # Market sees the line with its shipment, but no form, and may not post one
    market = Client()
    market.force_login(people["market"])
    seen = market.get(f"/qms/ledger/{entry.pk}/").content.decode()
    assert "DN-WEB" in seen and 'id="shipment-form"' not in seen
    refused = market.post(f"/qms/ledger/{entry.pk}/", {"shipped_on": TODAY(), "product": "P-1001", "quantity": "1",
                                                       "lot_number": "L", "delivery_note": "DN"})
    assert refused.status_code == 403 and entry.shipments.count() == 1
    filtered = store.get("/qms/ledger/?status=cancelled").content.decode()
    assert "PO-LEDGER-1" not in filtered
    assert store.get("/qms/ledger/?status=bogus").status_code == 400


# --- exports and print -----------------------------------------------------------------------------------------------


def test_csv_and_xlsx_exports_carry_the_lines_revisions_and_shipments(entry):
    assert ship("warehouse", entry, quantity="200", lot_number="L-EXP", delivery_note="DN-EXP").status_code == 201
    api = client_for("finance")
    response = api.get("/api/ledger/export.csv?customer=C001")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    values = list(row.values())
    assert "PO-LEDGER-1" in values and "C001" in values
    assert any("DN-EXP" in v and "L-EXP" in v for v in values)
    assert "800" in values and "600" in values  # ordered, not shipped
    from openpyxl import load_workbook

    xlsx = api.get("/api/ledger/export.xlsx?status=open")
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx["Content-Type"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [[c.value for c in r] for r in sheet.iter_rows()]
    assert len(cells) == 2 and cells[1][0] == "PO-LEDGER-1" and cells[1][9] == 800 and cells[1][10] == 200
    assert "DN-EXP" in cells[1][14]
    # the page's export follows the page's filters
    client = Client()
    client.force_login(entry.order_review.started_by)
    empty = client.get("/qms/ledger/export.csv?status=shipped").content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(empty)))) == 1


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils not installed")
def test_the_printed_ledger_is_a_controlled_record_with_cjk_fonts_embedded(entry, tmp_path):
    from forms import pdf

    assert ship("warehouse", entry, quantity="200", delivery_note="DN-PDF").status_code == 201
    api = client_for("market")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post(f"/api/ledger/print/?period_from={TODAY()}")
    assert response.status_code == 201, response.content
    record = Record.objects.get(number=response.json()["record"])
    assert record.record_type == "contract_ledger" and record.form_code == "QR-MK-003"
    version = record.get_version()
    assert [r["contract_number"] for r in version.data["rows"]] == ["PO-LEDGER-1"]
    assert version.data["filters"] == {"period_from": TODAY()}
    assert AuditEntry.objects.filter(action="ledger.printed", record=record).exists()
    path = tmp_path / "ledger.pdf"
    path.write_bytes(pdf.render_pdf_bytes(version))
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    flat = "".join(text.split())  # a narrow column may wrap a number
    assert "合同台账" in flat and "PO-LEDGER-1" in flat and "DN-PDF" in flat and "执行中Open" in flat
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout.splitlines()
    emb = fonts[0].index("emb")
    assert fonts[2:] and all(row[emb:emb + 3].strip() == "yes" for row in fonts[2:]), fonts
    assert any(cjk_face() in row.split()[0].lower().replace("-", "") for row in fonts[2:]), fonts


# --- cancellation (issue 14 item 2) ------------------------------------------------------------------------------------


@pytest.fixture(params=[ApiDriver, WebDriver], ids=["api", "web"])
def drive(request, people):
    return request.param()


def test_a_cancellation_cancels_the_line_keeps_what_shipped_asks_no_plan_and_production_and_materials_sign_for_it(
        drive, order_data, future):
    entry = approved_order(drive, order_data, future, number="PO-CANCEL-1")
    assert ship("warehouse", entry, quantity="150", delivery_note="DN-BEFORE").status_code == 201
    review = entry.order_review
    change_pid = drive.start_change("market2", {
        "order": review.record.number, "category": "cancel", "reason": "客户取消订单 customer cancels the order",
        "affected_departments": ["production"], "customer_confirmed": True, "lines": []})
    review.refresh_from_db()
    assert review.status == OrderReviewStatus.CHANGE_IN_REVIEW and review.lines.count() == 2
    notice = review.change_notices.get()
    assert notice.after == [] and len(notice.before) == 2
    review_round(drive, change_pid, departments=["production"])
    assert approve(drive, change_pid) == 200
    # no production plan asked for; production and materials each sign for the stop
    assert open_steps(change_pid) == ["acknowledge_change", "acknowledge_change"]
    review.refresh_from_db()
    entry.refresh_from_db()
    assert review.status == OrderReviewStatus.CANCELLED and review.record.status == "cancelled"
    assert entry.status == LedgerStatus.CANCELLED and entry.shipped_quantity == 150 and entry.open_quantity == 0
    revision = entry.revisions.get(revision=1)
    assert revision.change_notice == notice and revision.changes["status"] == ["open", "cancelled"]
    assert revision.changes["open_quantity"][1] == "0"
    for dept in ["production", "materials"]:
        assert drive.do(dept, change_pid, "acknowledge_change", {"comment": "已停止 stopped"},
                        meaning="acknowledged") == 200
    assert open_steps(change_pid) == []
    assert sorted(r.department for r in notice.receipts.all()) == ["materials", "production"]
    acknowledged = AuditEntry.objects.filter(action="change_notice.acknowledged", record=notice.record)
    assert acknowledged.count() == 2
    assert review.plans.count() == 1  # the one written at acceptance; none after the cancellation
    # the API shows the revision; no further shipment on a cancelled line (409), nothing saved
    line = client_for("quality").get(f"/api/ledger/{entry.pk}/").json()
    assert line["status"] == "cancelled" and line["revisions"][-1]["change_notice"] == notice.record.number
    refused = ship("warehouse", entry, quantity="1", delivery_note="DN-AFTER")
    assert refused.status_code == 409 and entry.shipments.count() == 1


def test_a_cancellation_that_leaves_quantities_is_refused(people, order_data, future):
    drive = ApiDriver()
    entry = approved_order(drive, order_data, future, number="PO-CANCEL-2", with_plan=False)
    from api_driver import signature

    body = {"order": entry.order_review.record.number, "category": "cancel", "reason": "取消 cancel",
            "affected_departments": ["production"], "customer_confirmed": True,
            "lines": [{"product": "P-1001", "quantity": "10", "delivery_date": future(30)}],
            "signature": signature("market2", "authored")}
    response = drive.client("market2").post("/api/order-reviews/change/", body, format="json")
    assert response.status_code == 400, response.content
    assert entry.order_review.change_notices.count() == 0
    # quantities of 0 say that nothing remains: accepted
    body["lines"] = [{"product": "P-1001", "quantity": "0", "delivery_date": future(30)}]
    body["signature"] = signature("market2", "authored")
    assert drive.client("market2").post("/api/order-reviews/change/", body, format="json").status_code == 201
    assert entry.order_review.change_notices.get().after == []


def test_the_date_signed_is_the_companys_date_even_just_after_its_midnight(people, order_data, future):
    """01:30 in Shanghai is 17:30 of the day before in UTC: the ledger's date signed is the company's day."""
    import time_machine

    moment = datetime.datetime(2026, 12, 2, 1, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    with time_machine.travel(moment, tick=True):
        entry = approved_order(ApiDriver(), order_data, future, number="PO-LEDGER-MIDNIGHT", with_plan=False)
        assert timezone.localdate() == datetime.date(2026, 12, 2)
    assert entry.signed_date == datetime.date(2026, 12, 2)
