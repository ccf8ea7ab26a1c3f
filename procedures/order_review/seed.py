"""The demo's order reviews (P1) in different states (`manage.py seed_demo`, through the same
actions as the browser and the API)."""
import datetime

from django.db import transaction
from django.utils import timezone

from forms.models import Customer
from procedures.requirements.entry import customer_specific_requirements
from workflows import actions
from workflows.demo import DEMO_PASSWORD, act_as

from .actions import record_shipment
from .flows import OrderReviewFlow
from .models import LedgerEntry, OrderReview, RequirementCategory


def _day(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def _order(number, customer, kind="order", qty="500"):
    return {"kind": kind, "customer": customer, "order_number": number, "order_date": timezone.localdate().isoformat(),
            "payment_terms": "月结 30 天 Net 30", "delivery_place": "上海 Shanghai", "transport": "纸箱 Carton",
            "special_requirements": "RoHS 合规 RoHS compliant",
            "lines": [{"product": "P-1001", "quantity": qty, "unit_price": "12.50", "delivery_date": _day(30)},
                      {"product": "P-2001", "quantity": "120", "unit_price": "45.00", "delivery_date": _day(40)}]}


def review_answers(department):
    """What a demo reviewer answers besides the verdict: each requirement category (REQ-2), Market's
    opinion on delivery date, unit price and packaging (src 6.3.8), Materials' readiness."""
    answers = {f"category_{c.value}": "met" for c in RequirementCategory}
    answers["category_differences"] = "na"
    if department == "market":
        answers.update(opinion_delivery_date="交期可接受 delivery dates can be kept",
                       opinion_unit_price="单价与报价一致 prices as quoted",
                       opinion_packaging="纸箱包装，标准托盘 carton, standard pallet")
    if department == "materials":
        answers["material_readiness"] = "ready"
    return answers


def seed(users, password=DEMO_PASSWORD):
    """Four order reviews (idempotent: nothing if any exists): one waiting for the four
    department reviews, one for the Market manager, one in negotiation, and an approved
    contract with its ledger line and production plan. Returns a line for the seed command's
    output, or None."""
    if OrderReview.objects.exists():
        return None
    flow = OrderReviewFlow

    def start(user, data):
        node = flow.start
        return actions.start_process(node, actor=user, form=node.make_form(data=data, api=True))

    def act(process, step, username, data, meaning=None):
        act_as(users[username], process, step, data, meaning=meaning, password=password)

    def reviews(process, verdicts=None):
        for dept in ["market", "quality", "production", "engineering", "materials"]:
            verdict = (verdicts or {}).get(dept, "can_meet")
            data = {"verdict": verdict, **review_answers(dept),
                    "comment": "" if verdict == "can_meet" else "产能紧张，需延期一周 capacity tight, one week later"}
            act(process, f"review_{dept}", dept, data, meaning="reviewed")

    # 1. just received: four reviews waiting in the department queues
    start(users["market"], _order("PO-DEMO-001", "C001"))
    # 2. reviewed, waiting for the Market manager's approval
    p2 = start(users["market"], _order("PO-DEMO-002", "C002", qty="150"))
    reviews(p2)
    # 3. production set conditions: Market must negotiate
    p3 = start(users["market"], _order("PO-DEMO-003", "C003"))
    reviews(p3, {"production": "conditions"})
    # 4. a contract, approved by the General Manager, plan written: accepted and in the ledger
    # (its record PDF is rendered by the Celery worker once it runs)
    p4 = start(users["market"], _order("CT-DEMO-004", "C001", kind="contract", qty="2000"))
    reviews(p4)
    act(p4, "approve", "gm", {"conclusion": "同意签订 Contract approved"}, meaning="approved")
    act(p4, "write_plan", "materials", {"planned_start": _day(1), "planned_finish": _day(25),
                                        "material_readiness": "钢材已备 steel in stock"}, meaning="authored")
    seed_shipments(users)
    return ("Seeded order reviews (P1): in review, awaiting approval, in negotiation, and an approved contract "
            "with two shipments in the contract ledger.")


def seed_shipments(users):
    """Two shipments by the finished-goods store against the approved contract's ledger line (partly shipped)."""
    entry = LedgerEntry.objects.get(contract_number="CT-DEMO-004")
    with transaction.atomic():
        record_shipment(entry, actor=users["warehouse"], data={
            "shipped_on": timezone.localdate().isoformat(), "product": "P-1001", "quantity": "800",
            "lot_number": "L2026-1120", "delivery_note": "DN-2026-0451", "remarks": "第一批 first batch"})
        record_shipment(entry, actor=users["warehouse"], data={
            "shipped_on": timezone.localdate().isoformat(), "product": "P-2001", "quantity": "120",
            "lot_number": "L2026-1121", "delivery_note": "DN-2026-0452"})


def seed_order_with_csr(users, password=DEMO_PASSWORD):
    """An order of C001 received after its customer-specific requirement was approved (P5 seeds
    it; this runs as P1's `late_seed`): the four departments review it, each stating how the order
    addresses the customer-specific requirement; it then waits for the Market manager. Nothing if
    it exists, or if C001 has no customer-specific requirement (a demo without P5's)."""
    if OrderReview.objects.filter(order_number="PO-DEMO-005").exists():
        return None
    if not customer_specific_requirements(Customer.objects.get(code="C001")):
        return None
    node = OrderReviewFlow.start
    process = actions.start_process(node, actor=users["market"],
                                    form=node.make_form(data=_order("PO-DEMO-005", "C001", qty="300"), api=True))
    addressed = {"quality": "出货检验核对英文合格证与 RoHS 报告 shipping inspection checks the CoC and the RoHS report",
                 "production": "随批次装箱单附文件 documents packed with each lot",
                 "engineering": "图纸无变化 no drawing change", "materials": "供方 RoHS 声明齐全 supplier RoHS declarations on file"}
    addressed = {"market": "报价与交期已按顾客要求核对 prices and dates checked against the customer's requirement",
                 **addressed}
    for dept, statement in addressed.items():
        data = {"verdict": "can_meet", "csr_addressed": statement, **review_answers(dept)}
        act_as(users[dept], process, f"review_{dept}", data, meaning="reviewed", password=password)
    return ("Seeded an order review of C001 (P1) whose four reviews address the customer's specific requirement "
            "(P5).")
