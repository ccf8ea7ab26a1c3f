"""The demo's complaints and returns (P2): cases in every state and an analysis to sign
(`manage.py seed_demo`, through the same actions as the browser and the API)."""
import datetime

from django.utils import timezone

from workflows import actions
from workflows.demo import DEMO_PASSWORD, act_as

from .flows import ComplaintFlow
from .models import ComplaintCase


def seed(users, password=DEMO_PASSWORD):
    """Five P2 cases, one internal (IQC) anomaly report and one analysis in different states (idempotent: nothing if any
    case exists). Returns a line for the seed command's output, or None."""
    if ComplaintCase.objects.exists():
        return None
    flow = ComplaintFlow
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=10)

    def start(node, username, data):
        node = getattr(flow, node)
        return actions.start_process(node, actor=users[username], form=node.make_form(data=data, api=True))

    def act(process, step, username, data, meaning=None, reason=""):
        act_as(users[username], process, step, data, meaning=meaning, reason=reason, password=password)

    def intake(kind, customer, product, lot, quantity, defect, description, received=today, **extra):
        return {"kind": kind, "customer": customer, "product": product, "lot_number": lot, "received_on": received,
                "quantity_delivered": "1000", "quantity_affected": quantity, "defect_category": defect,
                "description": description, "customer_request": "return" if kind != "complaint" else "report",
                "contact": "陈先生 Mr. Chen", "channel": "email", **extra}

    inspection = {"quantity_inspected": "120", "quantity_defective": "26", "defect_grade": "B",
                  "phenomenon": "端面划伤 scratches on the end face", "cause_method": "包装隔板缺失 no separators",
                  "cause_summary": "包装不当导致运输碰伤 improper packing", "interim_measure": "在库品全检 100 % check",
                  "actions": ["containment", "inform_customer"]}
    # 1. a return just registered: the inspection waits in the Quality queue
    start("start", "market", intake("return", "C001", "P-1001", "L2026-1101", "120", "appearance",
                                    "端面划伤 scratches found at incoming inspection", delivery_note="DN-2026-1101"))
    # 2. inspected (the lot is on hold), waiting for the Quality manager's judgement
    p2 = start("start", "market", intake("both", "C002", "P-2001", "L2026-1015", "120", "dimension",
                                         "孔距超差 bolt-hole pitch out of tolerance"))
    act(p2, "inspect", "quality", inspection, meaning="authored")
    # 3. justified, received, split disposition waiting for the General Manager's concession signature
    p3 = start("start", "market", intake("return", "C001", "P-1002", "L2026-0930", "120", "appearance",
                                         "表面氧化 oxidised surface", contract_requires_acceptance=True))
    act(p3, "inspect", "quality", inspection, meaning="authored")
    act(p3, "judge", "quality_mgr", {"justified": "yes", "judgement": "包装防潮不足 packing not moisture-proof"},
        meaning="reviewed")
    act(p3, "hand_over", "market", {"note": "3 箱 three cartons"})
    act(p3, "receive", "materials", {"store_location": "成品库隔离区 B-02 quarantine B-02", "lines": [
        {"product": "P-1002", "quantity": "120", "lot_number": "L2026-0930"}]}, meaning="authored")
    act(p3, "dispose", "quality_mgr", {"lines": [{"code": "concession", "quantity": "90"},
                                                 {"code": "scrap", "quantity": "30"}], "cost": "420"},
        meaning="approved")
    # 4. last month: a complaint without returned goods, settled, no CAPA needed — closed
    p4 = start("start", "market", intake("complaint", "C003", "P-3001", "", "20", "packaging",
                                         "标签错误 wrong labels", received=last_month))
    act(p4, "inspect", "quality", {**inspection, "quantity_inspected": "", "quantity_defective": ""},
        meaning="authored")
    act(p4, "judge", "quality_mgr", {"justified": "yes", "judgement": "标签打印错误 label printing error"},
        meaning="reviewed")
    act(p4, "settle", "market", {"outcome": "replacement", "amount": "150", "notes": "补发标签 labels re-sent"},
        meaning="authored")
    act(p4, "decide_capa", "quality_mgr", {"capa_required": "no", "reason": "一次性打印错误 one-off misprint"},
        meaning="reviewed")
    # 5. last month: a return not justified, negotiated — closed, the hold released
    p5 = start("start", "market", intake("return", "C002", "P-1001", "L2026-0820", "40", "function",
                                         "异响 noise in operation", received=last_month))
    act(p5, "inspect", "quality", {**inspection, "quantity_inspected": "40", "quantity_defective": "0"},
        meaning="authored")
    act(p5, "judge", "quality_mgr", {"justified": "no", "judgement": "客户安装不当 customer's installation"},
        meaning="reviewed")
    act(p5, "negotiate", "market", {"outcome": "goods_sent_back", "amount": "60",
                                    "notes": "退回客户，运费我司承担 returned, we pay freight"}, meaning="authored")
    # 6. an internal nonconformity: incoming inspection (IQC) rejects a supplier lot — the report is
    # signed by the inspector, the lot on hold, the Quality manager's judgement waiting
    iqc = flow.start_internal
    actions.start_process(
        iqc, actor=users["quality"],
        signature_input=actions.SignatureInput(password=password, meaning="authored", username="quality",
                                               require_username=True),
        form=iqc.make_form(data={
            "origin": "iqc", "inspected_on": today.isoformat(), "supplier": "宁波精工五金 Ningbo Precision Hardware",
            "product": "P-1001", "lot_number": "IQC-2026-1120", "lot_size": "2000", "quantity_inspected": "125",
            "sample_size": "125", "quantity_defective": "9", "defect_category": "dimension", "defect_grade": "B",
            "phenomenon": "来料外径超差 +0.04 mm incoming parts: outer diameter over tolerance",
            "cause_material": "供方刀具磨损未换 the supplier's worn tool",
            "cause_summary": "供方过程控制不足 the supplier's process control", "interim_measure": "整批隔离，通知供方 lot "
            "segregated, supplier informed", "actions": ["containment", "stop_shipment"]}, api=True,
            user=users["quality"]))
    # 7. the analysis of last month, waiting for the Market manager's signature
    month_end = today.replace(day=1) - datetime.timedelta(days=1)
    start("start_analysis", "market_mgr", {"period_start": last_month.replace(day=1).isoformat(),
                                           "period_end": month_end.isoformat()})
    return ("Seeded complaint / return cases (P2) in different states, an internal IQC anomaly report and an "
            "analysis to sign.")
