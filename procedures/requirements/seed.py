"""The demo's customer requirements (P5) in different states (`manage.py seed_demo`), through the
same actions as the browser and the API."""
import datetime

from django.utils import timezone

from workflows import actions
from workflows.demo import DEMO_PASSWORD, act_as

from .flows import RequirementFlow
from .models import CustomerRequirement


def _day(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def _requirement(customer, words, meaning, *, kind="explicit", channel="visit", product="P-1001", **extra):
    data = {"channel": channel, "requirement_type": kind, "received_on": _day(0), "customer_words": words,
            "meaning": meaning, **extra}
    if customer.startswith("C0"):
        data["customer"] = customer
    else:
        data["customer_name"] = customer
    if product:
        data["product"] = product
    return data


def seed(users, password=DEMO_PASSWORD):
    """Six requirements (idempotent: nothing if any exists): registered, a duplicate linked to it,
    in review, awaiting approval, in implementation, and one evaluated and answered."""
    if CustomerRequirement.objects.exists():
        return None

    def start(user, data):
        node = RequirementFlow.start
        return actions.start_process(node, actor=user, form=node.make_form(data=data, api=True))

    def act(process, step, username, data, meaning=None):
        act_as(users[username], process, step, data, meaning=meaning, password=password)

    def analyse(process, departments=("quality", "engineering"), importance=4, urgency=4, **extra):
        act(process, "analyse", "market", {"importance": importance, "urgency": urgency, "kano_category": "O",
                                           "feasibility": "现有工艺可实现 feasible with the current process",
                                           "review_departments": list(departments), **extra}, meaning="authored")

    def review(process, departments=("quality", "engineering")):
        for dept in departments:
            act(process, "review", dept, {"verdict": "feasible", "comment": "可满足 can be met"}, meaning="reviewed")

    # 1. registered, waiting for the analysis; 2. a duplicate of it, linked and closed
    p1 = start(users["market"], _requirement(
        "C001", "希望交货包装改为防静电袋 We want anti-static bags for delivery",
        "包装规范需增加防静电要求 packing spec needs an ESD requirement", channel="phone"))
    number = CustomerRequirement.objects.get(record__process=p1).record.number
    start(users["market2"], _requirement(
        "C001", "防静电包装 anti-static packing (same request by e-mail)", "同上 as above", channel="email",
        duplicate_of=number))
    # 3. analysed, two departments reviewing (a potential customer met at an exhibition)
    p3 = start(users["market"], _requirement(
        "深圳新能源科技 Shenzhen New Energy Tech", "需要 IP67 防护的端盖 end covers to IP67",
        "需新增密封结构与防水测试 new sealing design and a water test", channel="exhibition", product="P-1002"))
    analyse(p3, importance=3, urgency=2)
    # 4. reviewed, waiting for the General Manager (customer-specific, changes the product)
    p4 = start(users["market"], _requirement(
        "C002", "法兰表面粗糙度 Ra≤0.8 flange surface roughness Ra ≤ 0.8", "需增加精磨工序 add fine grinding",
        kind="customer_specific", product="P-2001"))
    analyse(p4, departments=("quality", "engineering", "production"), importance=5, urgency=4,
            changes_product_or_process=True)
    review(p4, ("quality", "engineering", "production"))
    # 5. approved, in implementation (Market manager), owner Engineering
    p5 = start(users["market"], _requirement(
        "C003", "Certificate of conformity with every lot, in English", "每批随货提供英文合格证 English CoC per lot",
        kind="statutory", channel="email", product="P-3001"))
    analyse(p5, departments=("quality",), importance=4, urgency=3)
    review(p5, ("quality",))
    act(p5, "approve", "market_mgr", {"conclusion": "同意 agreed", "owner": "quality", "due_date": _day(21)},
        meaning="approved")
    act(p5, "track", "quality", {"outcome": "in_implementation", "progress": "模板已起草 template drafted"})
    # 6. implemented, evaluated and answered
    p6 = start(users["market"], _requirement(
        "C001", "标签增加客户料号 add our part number to the label", "标签模板增加字段 new label field",
        channel="visit"))
    analyse(p6, departments=("quality",), importance=2, urgency=2)
    review(p6, ("quality",))
    act(p6, "approve", "market_mgr", {"conclusion": "同意 agreed", "owner": "quality", "due_date": _day(14)},
        meaning="approved")
    act(p6, "track", "quality", {"outcome": "implemented", "progress": "新标签已启用 new label in use"})
    act(p6, "evaluate", "market", {"fulfilment": "met", "evidence": "首批标签照片 photo of the first lot's label",
                                   "answer_date": _day(0), "answer_channel": "email",
                                   "answer_content": "新标签已于本批启用 the new label is used from this lot"},
        meaning="verified")
    return ("Seeded customer requirements (P5): registered, a linked duplicate, in review, awaiting approval, "
            "in implementation, and one answered.")
