"""The demo's controlled documents: the source procedures (客户需求管理程序 with its
records list, the nonconforming-product and CAPA procedures it cites, document and
record control) and the blank forms they name, each issued through the real
document-control flow with a first effective revision A/0."""
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.utils import timezone
from viewflow.workflow.timers import fire_due_timers
from weasyprint import HTML

from core import registry
from core.registry import flows
from procedures.documents.flows import DocumentControlFlow
from workflows import actions
from workflows.demo import DEMO_PASSWORD, act_as

from .binding import flow_key
from .models import ApprovalRule, Document

P1 = [
    ("目的 Purpose", ["确保充分理解并满足顾客要求，对订单与合同进行评审。 Understand and meet customer requirements by reviewing every order and contract."]),
    ("范围 Scope", ["适用于所有订单、合同及其变更。 All orders, contracts and their changes."]),
    ("定义 Definitions", ["订单：顾客书面或口头通知的品种、数量、质量、包装要求。 Order: a customer's written or verbal notice of variety, quantity, quality and packaging.",
                          "样品：每行不超过 200 件的订单，或评审决定按样品制作的产品。 Sample: an order of at most 200 pieces per line, or a product the review decides to make as a sample."]),
    ("订单/合同评审 Order and contract review (6.3)", [
        "市场部接收订单或合同并组织评审；品质部、生产部、工程部、资材部分别评审并签名。 Market receives the order and organises the review; Quality, Production, Engineering and Materials each review and sign.",
        "评审结论非“能满足”时，市场部与顾客协商，必要时发出合同变更通知单并重新评审。 Where a verdict is not 'can meet', Market negotiates; a contract change notice starts a new review.",
        "市场部经理批准订单；合同由总经理或其授权人批准。 The Market manager approves orders; the General Manager approves contracts.",
        "批准后资材部编制生产计划，订单登记入合同台账。 After approval Materials writes the production plan and the order enters the contract ledger."]),
    ("顾客投诉与退货 Complaints and returns (6.6)", [
        "市场部登记质量信息反馈单；品质部检验退货并填写品质异常处理报告。 Market registers the feedback form; Quality inspects returns and reports the anomaly.",
        "退货成立时资材部填写物料入库单，品质部按不合格品控制程序处置并采取纠正预防措施。 Justified returns are received by Materials and disposed by Quality, with corrective action."]),
    ("记录 Records (7)", ["订单评审记录表 QR-MK-001；合同变更通知单 QR-MK-002；合同台账 QR-MK-003；生产计划 QR-MC-001；质量信息反馈单 QR-QA-002；品质异常处理报告 QR-QA-003；物料入库单 QR-MC-002；客诉与退货分析 QR-MK-004。"]),
]
NC = [("目的 Purpose", ["识别和控制不合格品，防止非预期使用或交付。 Identify and control nonconforming product to prevent its unintended use or delivery."]),
      ("处置 Disposition (ISO 8.7)", ["让步接收、返工、返修、降级、报废、退供应商；返工返修后须重新检验。 Use as is under concession, rework, repair, regrade, scrap, return to supplier; reworked goods are re-inspected."])]
CAPA = [("目的 Purpose", ["消除不合格的原因，防止再发生。 Eliminate the causes of nonconformities so they do not recur."]),
        ("步骤 Steps (ISO 10.2)", ["描述与遏制、原因分析（5-Why、人机料法环测）、措施计划与批准、实施、效果验证、结案。 Describe and contain, find root cause, plan and approve actions, implement, verify effectiveness, close."])]
DOCS = [("目的 Purpose", ["控制文件与记录，确保使用现行有效版本、记录可追溯且不可篡改。 Control documents and records: only effective revisions in use, records traceable and tamper-evident."]),
        ("文件控制 Document control (ISO 7.5)", ["变更申请、编制、会审、批准、生效、阅知确认与定期评审。 Change request, drafting, review, approval, effective date, read-and-understood acknowledgement, periodic review."])]

PROCEDURES = [
    # number, zh, en, owner, governs flow, sections, distribution
    ("QP-MK-01", "客户需求管理程序", "Customer Requirements Management Procedure", "market",
     "OrderReviewFlow", P1, ["market", "quality", "production", "engineering", "materials"]),
    ("QP-QA-04", "不合格品控制程序", "Control of Nonconforming Product", "quality",
     "ComplaintFlow", NC, ["quality", "market", "materials", "warehouse"]),
    ("QP-QA-05", "纠正预防措施控制程序", "Corrective and Preventive Action Procedure", "quality",
     "CapaFlow", CAPA,
     ["quality", "production", "engineering"]),
    ("QP-QA-01", "文件与记录控制程序", "Control of Documents and Records", "quality",
     "DocumentControlFlow", DOCS, ["quality"]),
]

FORMS = [
    # number, zh, en, owner, record type it governs, fields
    ("QR-MK-001", "订单评审记录表", "Order Review Record Sheet", "market", "order_review",
     ["评审表编号", "订单/合同编号", "客户名称", "交货日期", "各部门评审意见", "评审结论", "批准"]),
    ("QR-MK-002", "合同变更通知单", "Contract Change Notice", "market", "change_notice",
     ["编号", "原合同/订单号", "变更类别", "变更前/变更后", "变更原因", "会签", "客户确认", "签收"]),
    ("QR-MK-003", "合同台账", "Contract Ledger", "market", "contract_ledger",
     ["合同编号", "类型", "状态", "客户名称", "签订日期", "交期", "成交总额", "已发货/未发货", "变更记录"]),
    ("QR-MC-001", "生产计划", "Production / Work Plan", "materials", "production_plan",
     ["订单", "产品", "数量", "物料状况", "计划开工/完工"]),
    ("QR-QA-001", "文件修订审批记录", "Document Revision Approval Record", "quality", "document_revision",
     ["文件编号", "版次", "变更原因", "会审", "批准", "生效日期"]),
    ("QR-QA-002", "质量信息反馈单", "Quality Information Feedback Form", "quality", "quality_feedback",
     ["反馈单号", "客户名称", "型号规格", "批号", "数量", "质量问题描述", "客户要求", "处理意见"]),
    ("QR-QA-003", "品质异常处理报告", "Quality Anomaly Handling Report", "quality", "anomaly_report",
     ["编号", "来源", "批量/检验数/不良数", "缺陷等级", "原因分析", "对策", "处置", "检验员/品质部经理"]),
    ("QR-MC-002", "物料入库单", "Material Receipt", "materials", "material_receipt",
     ["单号", "日期", "来源", "物料编码/名称/规格/数量/批号", "收货人", "联别：财务/市场/成品库"]),
    ("QR-QA-004", "纠正预防措施报告", "Corrective / Preventive Action Report (8D)", "quality", "capa_report",
     ["报告编号", "来源", "D0–D8", "5-Why", "人机料法环测", "措施", "效果验证", "结案"]),
    ("QR-MK-004", "客诉与退货分析", "Complaint and Return Analysis", "market", "complaint_analysis",
     ["期间", "按客户/产品/缺陷统计与排列图", "费用", "未关闭及逾期的纠正预防措施", "趋势图", "编制/批准"]),
    ("QR-QA-005", "管理评审输入报告", "Management Review Input Pack", "quality", "management_review",
     ["评审期间", "顾客满意与反馈", "客诉与退货", "顾客需求", "不合格与纠正措施", "文件控制", "审核结果", "上次评审措施",
      "品质部经理/总经理签署", "评审决定与措施"]),
    ("QR-MK-005", "顾客需求评审表", "Customer Requirement Review Form", "market", "customer_requirement",
     ["需求编号", "顾客", "渠道", "类型", "顾客原话", "对我方的含义", "重要度/紧迫度/优先级", "各部门评审", "批准",
      "跟踪", "评估与答复"]),
    ("QR-MK-006", "KANO 调查表", "KANO Study", "market", "kano_study",
     ["调查编号", "产品/服务", "功能特性与成对问题", "答卷来源", "各类计数 A/O/M/I/R/Q", "KANO 分类", "Better/Worse 系数",
      "Better–Worse 散点图", "批准"]),
    ("QR-MK-007", "顾客满意度调查报告", "Customer Satisfaction Survey Report", "market", "satisfaction_survey",
     ["调查编号", "调查期间", "抽样方式与随机种子", "调查指标与重要度权重", "期望/感受均值与差距", "满意度指数（总体、按客户类别）",
      "重要度×满意度象限", "趋势", "回收率", "批准"]),
    ("QR-EN-001", "质量屋", "House of Quality (QFD)", "engineering", "house_of_quality",
     ["记录编号", "产品", "顾客需求与权重", "技术特性（单位、方向、目标值）", "关系矩阵 9/3/1", "屋顶相关性",
      "技术重要度、相对重要度与排序", "批准"]),
]


def _pdf(number, zh, en, sections=(), fields=()):
    html = render_to_string("procedures/seed/document.html", {
        "number": number, "title_zh": zh, "title_en": en, "sections": sections, "fields": fields,
        "company": f"{settings.QMS['COMPANY_NAME_ZH']} {settings.QMS['COMPANY_NAME_EN']}",
        "font": settings.QMS["PDF_FONT_FAMILY"]})
    return SimpleUploadedFile(f"{number}.pdf", HTML(string=html).write_pdf(), content_type="application/pdf")


def _staff(users, department):
    return users["gm" if department == "management" else department]


def _manager(users, department):
    return users["gm" if department == "management" else f"{department}_mgr"]


def issue_document(users, password, *, number, zh, en, doc_type, owner, distribution, pdf, governs_flow="",
                   governs_record_type=""):
    node = DocumentControlFlow.start_new
    data = {"number": number, "title_zh": zh, "title_en": en, "doc_type": doc_type, "owner_department": owner,
            "review_interval_months": 12, "retention_years": 10, "distribution": distribution,
            "governs_flow": governs_flow, "governs_record_type": governs_record_type, "reason": "首次发布 first issue"}
    process = actions.start_process(node, actor=users["quality"], form=node.make_form(data=data, api=True))
    # each step dates itself when it runs: a seed that crosses midnight must not offer yesterday as effective
    act_as(_staff(users, owner), process, "edit", {"outcome": "submit", "change_summary": "首次发布 first issue",
                                                   "effective_date": timezone.localdate().isoformat()},
           files={"pdf": [pdf]},
           meaning="authored", password=password)
    rule = ApprovalRule.objects.get(document_type=doc_type)
    for department in rule.reviewing_departments:
        act_as(_staff(users, department), process, "review", {"accepted": "yes", "comment": "同意"},
               meaning="reviewed", password=password)
    act_as(_manager(users, rule.approver_department), process, "approve",
           {"effective_date": timezone.localdate().isoformat()},
           meaning="approved", password=password)
    return process


def seed_documents(users, password):
    if Document.objects.exists():
        return 0
    flow_keys = {flow_key(f) for f in flows()}
    types = {t.code for t in registry.all_types()}
    for number, zh, en, owner, flow, sections, distribution in PROCEDURES:
        issue_document(users, password, number=number, zh=zh, en=en, doc_type="procedure", owner=owner,
                       distribution=distribution, pdf=_pdf(number, zh, en, sections),
                       governs_flow=flow if flow in flow_keys else "")
    for number, zh, en, owner, record_type, fields in FORMS:
        issue_document(users, password, number=number, zh=zh, en=en, doc_type="form", owner=owner,
                       distribution=[owner], pdf=_pdf(number, zh, en, fields=fields),
                       governs_record_type=record_type if record_type in types else "")
    fire_due_timers()  # effective today: in force now rather than at the next beat
    return len(PROCEDURES) + len(FORMS)



def seed(users, password=None):
    """`manage.py seed_demo`: the source procedures and their forms as controlled documents in
    force. Returns a line for the command's output, or None."""
    issued = seed_documents(users, password or DEMO_PASSWORD)
    return f"Issued {issued} controlled documents (procedures and forms), revision A/0." if issued else None
