"""Data and helpers for the P2 (complaints and returns) tests."""
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from procedures.complaints.flows import ComplaintFlow

FLOW = ComplaintFlow
API_START = "/api/complaints/"
WEB_BASE = "/qms/flows/complaint"


def today(days=0):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def image_bytes(kind="PNG", size=(24, 16), colour=(200, 40, 40)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, kind)
    return buffer.getvalue()


def photo(name="defect.png", kind="PNG"):
    return SimpleUploadedFile(name, image_bytes(kind), content_type="image/png" if kind == "PNG" else "image/jpeg")


def intake(kind="return", customer="C001", product="P-1001", lot="L2026-0815", quantity="120", delivered="500",
           defect="appearance", **extra):
    return {
        "kind": kind, "customer": customer, "contact": "陈先生 Mr. Chen", "phone": "+86 21 5080 1234",
        "channel": "email", "received_on": today(), "delivery_note": "DN-2026-0815", "delivery_date": today(-10),
        "product": product, "lot_number": lot if kind != "complaint" or lot else "",
        "quantity_delivered": delivered, "quantity_affected": quantity, "defect_category": defect,
        "description": "表面划伤，客户来料检验发现 scratches found at incoming inspection",
        "customer_request": "return" if kind != "complaint" else "report", **extra,
    }


def inspection(inspected="120", defective="18", **extra):
    data = {"defect_grade": "B", "phenomenon": "端面划伤 0.3 mm scratches on the end face",
            "cause_method": "包装隔板缺失 missing separators in packing",
            "cause_summary": "包装方式不当导致运输中碰伤 improper packing damaged parts in transit",
            "interim_measure": "在库品 100% 挑选 sort all stock 100 %", "actions": ["containment", "inform_customer"]}
    if inspected is not None:
        data["quantity_inspected"] = inspected
    if defective is not None:
        data["quantity_defective"] = defective
    return {**data, **extra}


def judgement(justified=True):
    return {"justified": "yes" if justified else "no",
            "judgement": "确认为我司包装问题 our packing caused it" if justified
            else "划伤为客户装配所致 scratches come from the customer's assembly"}


def receipt(quantity="120", lot="L2026-0815", product="P-1001", **extra):
    return {"store_location": "成品库不合格品区 A-01 NC area A-01", "acceptance_result": "数量相符 quantity matches",
            "lines": [{"product": product, "quantity": quantity, "lot_number": lot, "unit": "pcs"}], **extra}


def disposition(*lines, cost="350.00"):
    return {"lines": [{"code": code, "quantity": qty} for code, qty in lines], "cost": cost,
            "notes": "按不良程度分别处置 by severity"}


def acceptance(accepted=True):
    return {"accepted": "yes" if accepted else "no", "customer_person": "陈先生 Mr. Chen (SQE)",
            "accepted_on": today(), "reference": "E-mail 2026-11-20 #4411",
            "notes": "" if accepted else "客户不接受 customer refuses"}


def capa(required=True, reason=""):
    return {"capa_required": "yes" if required else "no", "reason": reason}


def web_base():
    """The browser URL of the P2 flow (derived from the URL configuration)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — builds the flow's URL namespace
    return FLOW.instance.reverse("index").rstrip("/")


def p2_drivers():
    """The API and browser drivers pointed at P2."""
    from drivers import ApiDriver, WebDriver

    return {"api": lambda: ApiDriver(start_url=API_START), "web": lambda: WebDriver(base=web_base())}


def walk_to_disposition(drive, start_data=None, files=None, quantity="120"):
    """Intake → inspection (lot on hold) → justified → handover → receipt. Returns the process id."""
    pid = drive.start("market", start_data or intake(quantity=quantity), files=files)
    assert drive.do("quality", pid, "inspect", inspection(inspected=quantity, defective="18"),
                    meaning="authored") == 200, drive.last_response.content[:2000]
    assert drive.do("quality_mgr", pid, "judge", judgement(True), meaning="reviewed") == 200
    assert drive.do("market", pid, "hand_over", {"note": "两箱 two cartons"}) == 200
    assert drive.do("materials", pid, "receive", receipt(quantity=quantity), meaning="authored") == 200, \
        drive.last_response.content[:2000]
    return pid


def skip_rendering(monkeypatch):
    """For tests where the PDFs are not under test: record versions are still made, but
    queue_render() and the render job nodes do not run WeasyPrint."""
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)
    for node in (FLOW.render_records, FLOW.render_analysis):
        monkeypatch.setattr(node, "_func", lambda activation: None)
