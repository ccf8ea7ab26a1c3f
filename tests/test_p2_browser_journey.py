"""One real-browser journey through a justified customer return to its disposition:
headless Chromium (Debian's package) driven by Playwright against the live test server.
Market registers the return with a photo, Quality inspects (the lot goes on hold), the
Quality manager judges and disposes a split lot, Materials receives the goods, the
General Manager signs the concession, and the hold is released. Screenshots go to
var/screenshots/p2-*.png for a person to look at."""
import pytest

from core.models import RecordFile
from procedures.complaints.models import ComplaintCase, DispositionStatus, LotStatus
from p2_support import image_bytes, web_base
from test_browser_journey import SHOTS, Person, browser  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(person, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    person.page.screenshot(path=str(SHOTS / f"p2-{name}.png"), full_page=True)


def test_a_justified_return_goes_from_intake_to_its_disposition_in_a_real_browser(browser, live_server, people,
                                                                                  tmp_path):
    base = f"{live_server.url}{web_base()}"
    photo = tmp_path / "scratch.png"
    photo.write_bytes(image_bytes("PNG", size=(320, 200)))

    # Market: the quality information feedback form, with a photo
    market = Person(browser, live_server, "market")
    page = market.page
    page.goto(f"{base}/start/")
    page.select_option("#id_kind", "return")
    page.select_option("#id_customer", "C002")
    page.fill("#id_contact", "李女士 Ms. Li")
    page.select_option("#id_product", "P-2001")
    page.fill("#id_lot_number", "L-BROWSER-7")
    page.fill("#id_quantity_delivered", "800")
    page.fill("#id_quantity_affected", "120")
    page.select_option("#id_defect_category", "dimension")
    page.fill("#id_description", "法兰孔距超差 0.4 mm bolt-hole pitch out of tolerance")
    page.select_option("#id_customer_request", "return")
    page.set_input_files("#id_photos", str(photo))
    shot(market, "01-intake")
    page.click("#complete")
    page.wait_for_url(lambda url: "/start/" not in url)
    case = ComplaintCase.objects.get(lot_number="L-BROWSER-7")
    pid = case.record.process_id
    assert case.photos.count() == 1

    # Quality staff: from the queue, claim the inspection, fill the anomaly report, sign
    inspector = Person(browser, live_server, "quality")
    inspector.claim_and_open(pid, "inspect")
    page = inspector.page
    page.fill("#id_quantity_inspected", "120")
    page.fill("#id_quantity_defective", "35")
    page.select_option("#id_defect_grade", "B")
    page.fill("#id_phenomenon", "孔距 +0.4 mm pitch +0.4 mm")
    page.fill("#id_cause_machine", "钻模磨损 worn drilling jig")
    page.fill("#id_cause_summary", "钻模定位销磨损 worn locating pin on the jig")
    page.fill("#id_interim_measure", "在库品全检 100 % check of stock")
    page.check("input[name=actions][value=containment]")
    shot(inspector, "02-inspection")
    inspector.sign_and_complete()
    assert "/execute/" not in page.url, page.content()[:3000]
    case.refresh_from_db()
    assert case.lot.status == LotStatus.ON_HOLD

    # Quality manager: the summary shows the lot on hold; judge it justified
    manager = Person(browser, live_server, "quality_mgr")
    manager.claim_and_open(pid, "judge")
    page = manager.page
    assert "L-BROWSER-7" in page.inner_text("#lot-status")
    page.check("input[name=justified][value=yes]")
    page.fill("#id_judgement", "钻模问题，退货成立 jig problem: return justified")
    shot(manager, "03-judgement")
    manager.sign_and_complete()
    assert "/execute/" not in page.url, page.content()[:3000]

    # Market hands the goods over; Materials receives them (the line is filled from the case)
    market.claim_and_open(pid, "hand_over")
    market.page.fill("#id_note", "3 箱 three cartons")
    market.page.click("#complete")
    market.page.wait_for_load_state()
    materials = Person(browser, live_server, "materials")
    materials.claim_and_open(pid, "receive")
    page = materials.page
    assert page.input_value("#id_lines-0-lot_number") == "L-BROWSER-7"
    page.fill("#id_store_location", "成品库隔离区 B-02 quarantine B-02")
    shot(materials, "04-receipt")
    materials.sign_and_complete()
    assert "/execute/" not in page.url, page.content()[:3000]

    # Quality manager: split the lot — 80 under concession, 40 scrapped (sums to the 120 received)
    manager.claim_and_open(pid, "dispose")
    page = manager.page
    page.select_option("#id_lines-0-code", "concession")
    page.fill("#id_lines-0-quantity", "80")
    page.click("#add-line-lines")
    page.select_option("#id_lines-1-code", "scrap")
    page.fill("#id_lines-1-quantity", "30")
    manager.sign_and_complete("approved")
    assert "/execute/" in page.url and "120" in page.inner_text("#form-error")  # 110 ≠ 120: refused
    shot(manager, "05-disposition-refused")
    page.fill("#id_lines-1-quantity", "40")
    page.fill("#id_cost", "460")
    page.fill("#id_sig-password", "Demo-pass-2026")
    shot(manager, "06-disposition")
    page.click("#complete")
    page.wait_for_load_state()
    assert "/execute/" not in page.url, page.content()[:3000]
    case.refresh_from_db()
    assert case.lot.status == LotStatus.ON_HOLD  # the concession still needs the General Manager

    # General Manager: the concession's second signature
    gm = Person(browser, live_server, "gm")
    gm.claim_and_open(pid, "sign_disposition")
    gm.page.fill("#id_comment", "同意特采 concession approved")
    shot(gm, "07-signoff")
    gm.sign_and_complete("approved")
    assert "/execute/" not in gm.page.url, gm.page.content()[:3000]

    case.refresh_from_db()
    assert case.lot.status == LotStatus.RELEASED
    disposition = case.anomaly_report.dispositions.get()
    assert disposition.status == DispositionStatus.COMPLETED
    assert {l.code: int(l.quantity) for l in disposition.lines.all()} == {"concession": 80, "scrap": 40}

    # The anomaly report's page: versions, every signature; its receipt printed in three copies
    report = case.anomaly_report.record
    manager.page.goto(f"{live_server.url}/qms/records/{report.number}/")
    text = manager.page.inner_text("#signatures")
    for name in ["王芳 Wang Fang", "刘洋 Liu Yang", "周强 Zhou Qiang"]:
        assert name in text
    shot(manager, "08-report-record")
    receipt = case.material_receipt.record
    assert RecordFile.objects.filter(record_version__record=receipt, kind="pdf").exists()
    manager.page.goto(f"{live_server.url}/qms/queue/")
    shot(manager, "09-queue-capa")
