"""The demo's corrective actions (P3) in different states (`manage.py seed_demo`, through the
same actions as the browser and the API)."""
import datetime

from django.utils import timezone

from workflows import actions
from workflows.demo import DEMO_PASSWORD, act_as

from .flows import CapaFlow
from .models import CapaCase


def seed(users, password=DEMO_PASSWORD):
    """Two P3 corrective actions (idempotent: nothing if any exists): one raised from an
    audit finding, waiting for D0–D2 in the Quality queue; one from an internal NC with
    its approved plan, each action in its owner's inbox. Returns a line for the seed
    command's output, or None."""
    if CapaCase.objects.exists():
        return None
    flow = CapaFlow

    def day(n):
        return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()

    def start(username, data):
        return actions.start_process(flow.start, actor=users[username], form=flow.start.make_form(data=data, api=True))

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
    return "Seeded corrective actions (P3): one waiting for D0–D2, one with its actions in their owners' inboxes."
