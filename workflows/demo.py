"""The bilingual demo company: people per department and role, customers, products.
Used by `manage.py seed_demo` and by the tests' fixtures, so both see the same world."""
from django.db import transaction
from django.utils.datastructures import MultiValueDict
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.models import Department, Membership, Role, User
from core import esign
from forms.models import Customer, Product
from workflows import actions

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
    ("C003", "莱茵工业有限公司", "Rheinland Industrial GmbH", "Industriestr. 5, 40210 Düsseldorf", "Hr. Weber", "+49 211 555 010"),
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
    task = next(t for t in Task.objects.filter(process=process, status__in=[STATUS.NEW, STATUS.ASSIGNED])
                .order_by("pk") if t.flow_task.name == step and (t.owner_id in (None, user.pk))
                and (t.owner_id == user.pk or t.flow_task.can_assign(user, t)))
    if task.status == STATUS.NEW:
        actions.claim_task(task, actor=user)
    task.refresh_from_db()
    form = task.flow_task.make_form(data=data, files=MultiValueDict(files or {}), api=True,
                                    activation=task.flow_task.activation_class(task), user=user)
    signature = actions.SignatureInput(password=password, meaning=meaning, reason=reason, username=user.username,
                                     require_username=True) if meaning else None
    actions.complete_step(task, actor=user, form=form, signature_input=signature)


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
