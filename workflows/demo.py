"""The bilingual demo company: people per department and role, customers, products.
Used by `manage.py seed_demo` and by the tests' fixtures, so both see the same world."""
from django.db import transaction

from accounts.models import Department, Membership, Role, User
from core import esign
from forms.models import Customer, Product

DEMO_PASSWORD = "Demo-pass-2026"

PEOPLE = [
    # username, printed name, [(department, role), ...]
    ("market", "李娜 Li Na", [(Department.MARKET, Role.STAFF)]),
    ("market2", "孙丽 Sun Li", [(Department.MARKET, Role.STAFF)]),
    ("market_mgr", "张伟 Zhang Wei", [(Department.MARKET, Role.MANAGER)]),
    ("quality", "王芳 Wang Fang", [(Department.QUALITY, Role.STAFF)]),
    ("quality_mgr", "刘洋 Liu Yang", [(Department.QUALITY, Role.MANAGER)]),
    ("production", "陈静 Chen Jing", [(Department.PRODUCTION, Role.STAFF)]),
    ("production_mgr", "黄涛 Huang Tao", [(Department.PRODUCTION, Role.MANAGER)]),
    ("engineering", "杨磊 Yang Lei", [(Department.ENGINEERING, Role.STAFF)]),
    ("engineering_mgr", "吴刚 Wu Gang", [(Department.ENGINEERING, Role.MANAGER)]),
    ("materials", "赵敏 Zhao Min", [(Department.MATERIALS, Role.STAFF)]),
    ("materials_mgr", "徐军 Xu Jun", [(Department.MATERIALS, Role.MANAGER)]),
    ("finance", "马红 Ma Hong", [(Department.FINANCE, Role.STAFF)]),
    ("warehouse", "朱勇 Zhu Yong", [(Department.WAREHOUSE, Role.STAFF)]),
    ("gm", "周强 Zhou Qiang", [(Department.MANAGEMENT, Role.MANAGER)]),
]

CUSTOMERS = [
    ("C001", "华东电子科技有限公司", "East China Electronics Co., Ltd.", "上海市浦东新区张江路 88 号", "陈先生 Mr. Chen", "+86 21 5080 1234"),
    ("C002", "北方汽车零部件集团", "Northern Auto Parts Group", "天津市滨海新区黄海路 12 号", "Ms. Li", "+86 22 6620 5678"),
    ("C003", "Rheinland Industrial GmbH", "Rheinland Industrial GmbH", "Industriestr. 5, 40210 Düsseldorf", "Hr. Weber", "+49 211 555 010"),
]

PRODUCTS = [
    ("P-1001", "精密轴承座", "Precision bearing housing", "Φ52×30 mm, HT250", "pcs"),
    ("P-1002", "铝合金端盖", "Aluminium end cover", "ADC12, 120×80×15 mm", "pcs"),
    ("P-2001", "不锈钢法兰", "Stainless steel flange", "DN50 PN16, SUS304", "pcs"),
    ("P-3001", "传动轴组件", "Drive shaft assembly", "L=450 mm, 40Cr", "set"),
]


@transaction.atomic
def act_as(user, process, step, data, *, files=None, meaning=None, reason="", password=DEMO_PASSWORD):
    """Seeding: `user` completes the open task of `step` in `process` that is theirs or that they
    may claim (the oldest), through the same actions as the browser and the API; `meaning`
    signs it with `password` (user ID re-entered, as on a first signature)."""
    from django.utils.datastructures import MultiValueDict
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from workflows import steps

    task = next(t for t in Task.objects.filter(process=process, status__in=[STATUS.NEW, STATUS.ASSIGNED])
                .order_by("pk") if t.flow_task.name == step and (t.owner_id in (None, user.pk))
                and (t.owner_id == user.pk or t.flow_task.can_assign(user, t)))
    if task.status == STATUS.NEW:
        steps.claim_task(task, actor=user)
    task.refresh_from_db()
    form = task.flow_task.make_form(data=data, files=MultiValueDict(files or {}), api=True,
                                    activation=task.flow_task.activation_class(task), user=user)
    signature = steps.SignatureInput(password=password, meaning=meaning, reason=reason, username=user.username,
                                     require_username=True) if meaning else None
    steps.complete_step(task, actor=user, form=form, signature_input=signature)


def create_people(password=DEMO_PASSWORD, accept_accountability=True):
    users = {}
    for username, printed, roles in PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, display_name=printed, email=f"{username}@demo.invalid")
            user.set_password(password)
            user.save()
        for department, role in roles:
            Membership.objects.get_or_create(user=user, department=department, role=role)
        if accept_accountability:
            esign.accept_accountability(user)
        users[username] = user
    if not User.objects.filter(username="admin").exists():
        admin = User(username="admin", display_name="系统管理员 Administrator", is_staff=True, is_superuser=True)
        admin.set_password(password)
        admin.save()
    users["admin"] = User.objects.get(username="admin")
    return users


@transaction.atomic
def create_catalog():
    for code, zh, en, address, contact, phone in CUSTOMERS:
        Customer.objects.get_or_create(code=code, defaults=dict(name_zh=zh, name_en=en, address=address,
                                                                contact=contact, phone=phone))
    for code, zh, en, spec, unit in PRODUCTS:
        Product.objects.get_or_create(code=code, defaults=dict(name_zh=zh, name_en=en, specification=spec, unit=unit))


# --- P2: a few complaint / return cases in different states ------------------------------------------------


def seed_complaints(users, password=DEMO_PASSWORD):
    """Five P2 cases and one analysis in different states (idempotent: nothing if any
    case exists). Returns the number of processes started."""
    import datetime

    from django.utils import timezone

    from forms.models import ComplaintCase

    from . import steps
    from .complaints import ComplaintFlow as flow

    if ComplaintCase.objects.exists():
        return 0
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=10)

    def start(node, username, data):
        node = getattr(flow, node)
        return steps.start_process(node, actor=users[username], form=node.make_form(data=data, api=True))

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
    # 6. the analysis of last month, waiting for the Market manager's signature
    month_end = today.replace(day=1) - datetime.timedelta(days=1)
    start("start_analysis", "market_mgr", {"period_start": last_month.replace(day=1).isoformat(),
                                           "period_end": month_end.isoformat()})
    seed_capas(users, password)
    return 6


# --- P3: corrective actions in different states --------------------------------------------------------------


def seed_capas(users, password=DEMO_PASSWORD):
    """Two P3 corrective actions (idempotent: nothing if any exists): one raised from an
    audit finding, waiting for D0–D2 in the Quality queue; one from an internal NC with
    its approved plan, each action in its owner's inbox. Returns the number started."""
    import datetime

    from django.utils import timezone

    from forms.capa_models import CapaCase

    from . import steps
    from .capa import CapaFlow as flow

    if CapaCase.objects.exists():
        return 0

    def day(n):
        return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()

    def start(username, data):
        return steps.start_process(flow.start, actor=users[username], form=flow.start.make_form(data=data, api=True))

    def act(process, step, username, data, meaning=None):
        act_as(users[username], process, step, data, meaning=meaning, password=password)

    # 1. an internal audit finding, just raised: D0–D2 wait in the Quality queue
    start("quality_mgr", {"source": "audit_finding", "source_reference": "IA-2026-07 #3",
                          "title": "校准记录不全 calibration records incomplete", "severity": "C"})
    # 2. an internal NC: team, containment, 5-Why, fishbone, plan approved; two actions in the owners' inboxes
    p2 = start("quality", {"source": "internal_nc", "source_reference": "IPQC-2026-031",
                           "title": "端盖毛刺 burrs on the end cover", "product_text": "P-1002 L2026-1102",
                           "quantity_defective": "35", "severity": "B"})
    act(p2, "describe", "quality", {
        "emergency_response": "停线并隔离在制品 line stopped, WIP quarantined", "champion": "quality_mgr",
        "leader": "engineering", "members": ["production", "quality"], "what": "端盖去毛刺不净 burrs remain",
        "where": "CNC-3 工位 station CNC-3", "when": "2026-11 夜班 night shift", "how_many": "35 / 500 (7 %)",
        "is_text": "CNC-3 夜班 night shift on CNC-3", "is_not_text": "CNC-1/2，白班 CNC-1/2, day shift"})
    act(p2, "contain", "engineering", {"containment": "在制品 100% 检验 100 % inspection of WIP",
                                       "verification": "抽检 200 件 0 不良 200 sampled, 0 defects"})
    act(p2, "analyse", "engineering", {
        "whys": [{"question": "为什么有毛刺? why burrs?", "answer": "刀具磨损 the tool was worn"},
                 {"question": "为什么刀具磨损? why worn?", "answer": "超寿命使用 used beyond its life"},
                 {"question": "为什么超寿命? why beyond life?", "answer": "夜班无换刀记录 no tool log on the night shift"}],
        "causes": [{"category": "machine", "cause": "刀具磨损 worn tool", "is_root": False},
                   {"category": "method", "cause": "无换刀规定 no tool-change rule", "is_root": True},
                   {"category": "man", "cause": "夜班新员工 new night-shift operator", "is_root": False}],
        "root_cause": "换刀无规定、无记录 no tool-change rule or log",
        "escape_point": "首件检验未查毛刺 first-article check skips burrs"})
    act(p2, "plan", "engineering", {"actions": [
        {"description": "制定换刀寿命与记录表 tool life and change log", "owner": "engineering", "due_date": day(14)},
        {"description": "培训夜班员工 train the night shift", "owner": "production", "due_date": day(7)}]})
    act(p2, "approve_plan", "quality_mgr", {"comment": "同意 agreed"}, meaning="approved")
    return 2
