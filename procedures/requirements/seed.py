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
    """Nine requirements (idempotent: nothing if any exists), one in each state: registered, a
    duplicate linked to it, in review, awaiting approval, in implementation (with two changes and a
    raised CAPA), evaluated and answered, approved (customer-specific), rejected and withdrawn; a
    KANO study and a house of quality."""
    if CustomerRequirement.objects.exists():
        return None

    def start(user, data):
        node = RequirementFlow.start
        return actions.start_process(node, actor=user, form=node.make_form(data=data, api=True))

    def act(process, step, username, data, meaning=None, reason=""):
        act_as(users[username], process, step, data, meaning=meaning, reason=reason, password=password)

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
    seed_kano_study(users, password, {"packing": p1, "roughness": p4, "certificate": p5})
    seed_house_of_quality(users, password, label=CustomerRequirement.objects.get(record__process=p6))
    seed_changes_and_raised(users, password, CustomerRequirement.objects.get(record__process=p5))
    # 7. an approved customer-specific requirement of C001, which the P1 review of its next order addresses
    p7 = start(users["market"], _requirement(
        "C001", "每批随货附英文合格证与 RoHS 报告 an English CoC and a RoHS report with every lot",
        "发货检验增加文件核对 shipping inspection checks the documents", kind="customer_specific", channel="email"))
    analyse(p7, departments=("quality",), importance=4, urgency=4)
    review(p7, ("quality",))
    act(p7, "approve", "market_mgr", {"conclusion": "同意 agreed", "owner": "quality", "due_date": _day(30)},
        meaning="approved")
    # 8. rejected by the Market manager, with the reason the customer is told
    p8 = start(users["market"], _requirement(
        "C002", "免费提供全部检验原始数据 all raw inspection data free of charge", "需额外人工整理 extra clerical work",
        channel="phone", product="P-2001"))
    analyse(p8, departments=("quality", "finance"), importance=2, urgency=1)
    review(p8, ("quality", "finance"))
    act(p8, "approve", "market_mgr", {"conclusion": "成本过高，提供汇总报告 too costly; a summary report instead"},
        meaning="rejected", reason="成本过高 too costly")
    # 9. withdrawn by the customer while it was being implemented
    p9 = start(users["market"], _requirement(
        "C003", "Blue packing tape", "包装胶带改为蓝色 blue tape", channel="email", product="P-3001"))
    analyse(p9, departments=("materials",), importance=1, urgency=2)
    review(p9, ("materials",))
    act(p9, "approve", "market_mgr", {"conclusion": "同意 agreed", "owner": "materials", "due_date": _day(10)},
        meaning="approved")
    act(p9, "track", "materials", {"outcome": "withdrawn", "progress": "客户撤回 the customer withdrew it"})
    return ("Seeded customer requirements (P5): registered, a linked duplicate, in review, awaiting approval, "
            "in implementation (one change approved, one rejected, a CAPA raised), one answered, and an approved "
            "customer-specific requirement that a P1 order review addressed, one rejected, one withdrawn; a closed "
            "KANO study of 30 respondents; an approved house of quality.")


def seed_changes_and_raised(users, password, req):
    """On the requirement in implementation: change 1 (a later due date) approved, change 2 (more
    urgent) rejected, and a corrective action raised by Quality (CAPA's rule: Quality raises)."""
    from django.db import transaction  # noqa: PLC0415

    from . import links  # noqa: PLC0415
    from .flows import RequirementChangeFlow  # noqa: PLC0415

    def change(data, decision, conclusion):
        node = RequirementChangeFlow.start
        signature = actions.SignatureInput(password=password, meaning="authored", username="market",
                                           require_username=True)
        process = actions.start_process(node, actor=users["market"], signature_input=signature, form=node.make_form(
            data={"requirement": req.record.number, **data}, api=True, user=users["market"]))
        for dept in req.review_departments:
            act_as(users[dept], process, "review", {"verdict": "feasible", "comment": "可满足 can be met"},
                   meaning="reviewed", password=password)
        act_as(users["market_mgr"], process, "approve", {"conclusion": conclusion}, meaning=decision,
               reason=conclusion if decision == "rejected" else "", password=password)

    change({"reason": "客户来函：首批改为下月交付 the customer's letter: first lot next month", "due_date": _day(35)},
           "approved", "同意延期 later date agreed")
    change({"reason": "客户电话要求提前 the customer asked by phone to bring it forward", "urgency": 5},
           "rejected", "产能不足，维持原计划 no capacity, the plan stands")
    with transaction.atomic():
        links.raise_capa(CustomerRequirement.objects.get(pk=req.pk), actor=users["quality"],
                         reason="英文合格证曾两次漏发 the English CoC was missed twice")


# --- the KANO study (procedures.requirements.kano) ----------------------------------------------------------

#: a representative answer pair (functional, dysfunctional) of each category
_PAIR = {"A": ("like", "neutral"), "O": ("like", "dislike"), "M": ("must_be", "dislike"), "I": ("neutral", "neutral"),
         "R": ("dislike", "like"), "Q": ("like", "like")}
#: per feature, how the 30 respondents answer (category: respondents)
_KANO_FEATURES = [
    ("防静电包装 Anti-static packing",
     "如果交货采用防静电包装，您觉得如何？ If deliveries come in anti-static bags, how do you feel?",
     "如果交货不采用防静电包装，您觉得如何？ If deliveries do not come in anti-static bags, how do you feel?",
     "packing", {"M": 14, "O": 8, "I": 5, "A": 3}),
    ("每批英文合格证 English CoC with every lot",
     "如果每批随货提供英文合格证，您觉得如何？ If every lot comes with an English CoC?",
     "如果不提供英文合格证，您觉得如何？ If there is no English CoC?",
     "certificate", {"O": 13, "M": 7, "A": 6, "I": 4}),
    ("法兰表面粗糙度 Ra≤0.8 Flange roughness Ra ≤ 0.8",
     "如果法兰表面粗糙度达到 Ra≤0.8，您觉得如何？ If the flange reaches Ra ≤ 0.8?",
     "如果达不到 Ra≤0.8，您觉得如何？ If it does not reach Ra ≤ 0.8?", "roughness", {"O": 12, "M": 10, "I": 6, "A": 2}),
    ("二维码批次追溯 QR-code lot traceability",
     "如果每件产品带批次二维码，您觉得如何？ If every part carries a lot QR code?",
     "如果没有批次二维码，您觉得如何？ If there is no lot QR code?", None, {"A": 15, "I": 8, "O": 5, "M": 2}),
    ("72 小时快速打样 Samples within 72 h", "如果 72 小时内提供样品，您觉得如何？ If samples arrive within 72 hours?",
     "如果打样需要两周，您觉得如何？ If samples take two weeks?", None, {"I": 16, "A": 8, "O": 3, "R": 2, "Q": 1}),
]
_RESPONDENT_NAMES = ["采购 王工 Buyer Wang", "质量 李工 QE Li", "工程 张工 Eng. Zhang",
                     "采购 刘经理 Purchasing mgr Liu", "仓库 陈主管 Store lead Chen", "质量 赵经理 Quality mgr Zhao"]
_CUSTOMERS = ["C001", "C002", "C003"]


def _kano_answers():
    """30 respondents × the features: each feature's categories spread over the respondents
    (a fixed interleaving, so the demo is the same every time)."""
    columns = []
    for shift, (*_texts, counts) in enumerate(_KANO_FEATURES):
        pairs = [_PAIR[category] for category, n in counts.items() for _i in range(n)]
        columns.append(pairs[shift * 7 % 30:] + pairs[:shift * 7 % 30])
    return [{position: column[i] for position, column in enumerate(columns, start=1)} for i in range(30)]


def seed_kano_study(users, password, processes):
    """One closed KANO study of P-1001 with 30 respondents: 12 entered by Market from interviews,
    12 imported from a CSV file, 6 answered through one-time links; closed and signed by the
    Market manager, which sets the KANO category of three seeded requirements."""
    import csv  # noqa: PLC0415
    import io  # noqa: PLC0415

    from django.db import transaction  # noqa: PLC0415

    from forms.models import Customer, Product  # noqa: PLC0415

    from . import kano  # noqa: PLC0415
    from .models import KanoStudy  # noqa: PLC0415

    if KanoStudy.objects.exists():
        return None
    market, manager = users["market"], users["market_mgr"]
    reqs = {key: CustomerRequirement.objects.get(record__process=process) for key, process in processes.items()}
    answers = _kano_answers()
    customers = {c.code: c for c in Customer.objects.filter(code__in=_CUSTOMERS)}

    def who(i):
        return f"{_RESPONDENT_NAMES[i % len(_RESPONDENT_NAMES)]} #{i + 1}", _CUSTOMERS[i % len(_CUSTOMERS)]

    with transaction.atomic():
        study = kano.create_study(actor=market, data={
            "title": "精密轴承座客户需求 KANO 调查 KANO study of the precision bearing housing",
            "product": Product.objects.get(code="P-1001"),
            "purpose": "为 2026 年产品改进排定需求优先级 to rank the requirements for the 2026 product update",
            "features": [{"name": name, "functional_question": fq, "dysfunctional_question": dq,
                          "requirement": reqs.get(key)} for name, fq, dq, key, _counts in _KANO_FEATURES]})
        kano.open_study(study, actor=market)
        for i in range(12):
            name, code = who(i)
            kano.enter_answers(study, actor=market, data={"respondent": name, "customer": customers[code],
                                                          "answers": answers[i]})
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(kano.import_layout(study))
        for i in range(12, 24):
            name, code = who(i)
            writer.writerow([name, code] + [word for position in sorted(answers[i]) for word in answers[i][position]])
        kano.import_answers(study, actor=market2 if (market2 := users.get("market2")) else market,
                            name="kano-interviews.csv", content=out.getvalue().encode("utf-8"))
        tokens = []
        for i in range(24, 30):
            name, code = who(i)
            tokens.append((i, kano.issue_link(study, actor=market, label=name, customer=customers[code],
                                              days_valid=14)[1]))
    for i, token in tokens:
        with transaction.atomic():
            kano.answer_through_link(token, answers=answers[i])
    sign = kano.password_signer(manager, password, username=manager.username, require_username=True)
    with transaction.atomic():
        kano.close_study(study, actor=manager, sign=sign)
    return study


# --- the house of quality (procedures.requirements.qfd) -------------------------------------------------------


def seed_house_of_quality(users, password, *, label):
    """One approved house of quality for the bearing housing P-1001: five needs (one from the approved
    label requirement) × five characteristics, 9/3/1 cells and a roof; approved by the Engineering manager."""
    from django.db import transaction  # noqa: PLC0415

    from forms.models import Product  # noqa: PLC0415

    from . import qfd  # noqa: PLC0415

    engineering = users["engineering"]
    with transaction.atomic():
        house = qfd.create_house(actor=engineering, data={
            "title": "精密轴承座 QFD bearing housing", "product": Product.objects.get(code="P-1001"),
            "requirements": [label]})
        qfd.set_matrix(house, actor=engineering, data={
            "needs": [{"text": qfd.need_text_of(label), "weight": label.importance or 2,
                       "requirement": label.record.number},
                      {"text": "轴承装入顺畅不卡滞 the bearing fits without sticking", "weight": 5},
                      {"text": "长期使用不变形 no deformation in long service", "weight": 4},
                      {"text": "安装孔位准确 mounting holes in the right place", "weight": 4},
                      {"text": "外观无锈蚀 no rust on delivery", "weight": 3}],
            "characteristics": [
                {"name": "内孔尺寸公差 bore tolerance", "unit": "µm", "direction": "target", "target": "Φ52 H7"},
                {"name": "材料硬度 material hardness", "unit": "HB", "direction": "up", "target": "≥ 190"},
                {"name": "孔位置度 hole position", "unit": "mm", "direction": "down", "target": "≤ 0.05"},
                {"name": "防锈处理 rust protection", "unit": "h", "direction": "up", "target": "盐雾 salt spray 48 h"},
                {"name": "标签信息 label content", "unit": "", "direction": "", "target": "含客户料号 with part no."}],
            "relationships": [
                {"need": 0, "characteristic": 4, "strength": 9},
                {"need": 1, "characteristic": 0, "strength": 9}, {"need": 1, "characteristic": 1, "strength": 1},
                {"need": 2, "characteristic": 1, "strength": 9}, {"need": 2, "characteristic": 0, "strength": 3},
                {"need": 3, "characteristic": 2, "strength": 9}, {"need": 3, "characteristic": 0, "strength": 1},
                {"need": 4, "characteristic": 3, "strength": 9}, {"need": 4, "characteristic": 4, "strength": 1}],
            "roof": [{"first": 0, "second": 2, "correlation": "+"}, {"first": 0, "second": 1, "correlation": "-"},
                     {"first": 1, "second": 3, "correlation": "--"}]})
    qfd.approve_house(house, actor=users["engineering_mgr"], password=password, username="engineering_mgr",
                      reason="工程评审通过 engineering review passed")
    return house
