"""The satisfaction survey (顾客满意度调查报告, QR-MK-007) as a controlled record: its snapshot — what a
record version holds, built from the working tables by the actions and rebuilt by verify_audit — with
the results as they stand (frozen in the version the Market manager signs)."""
from django.utils.translation import gettext_lazy as _

from core.registry import RecordType, Sentence, register, register_action_texts, register_status_labels, \
    register_version_reasons

from .models import SurveyStatus

LABELS = {
    "record_number": ("记录编号", "Record No."), "title": ("标题", "Title"),
    "period_start": ("调查期间自", "Period from"), "period_end": ("调查期间至", "Period to"),
    "scale_max": ("评分等级（1 至）", "Scale (1 to)"), "status": ("状态", "Status"),
    "sample_method": ("抽样方式", "Sample"), "sample_segment": ("客户类别", "Segment"),
    "sample_size": ("样本量", "Sample size"), "sample_seed": ("随机种子", "Random seed"),
    "sample": ("样本客户", "Sampled customers"), "sample[]": ("{}", "{}"),
    "sample[].customer_code": ("客户代码", "Customer code"), "sample[].customer_name": ("客户名称", "Customer"),
    "sample[].segment": ("客户类别", "Segment"),
    "indicators": ("调查指标", "Indicators"), "indicators[]": ("指标 {}", "Indicator {}"),
    "indicators[].position": ("序号", "No."), "indicators[].code": None,
    "indicators[].name_zh": ("指标", "Indicator"), "indicators[].name_en": ("指标（英文）", "Indicator (English)"),
    "indicators[].weight": ("重要度权重", "Weight"),
    "responses": ("答卷", "Responses"), "responses[]": ("答卷 {}", "Response {}"),
    "responses[].customer_code": ("客户代码", "Customer code"), "responses[].respondent": ("答卷人", "Respondent"),
    "responses[].source": ("来源", "Source"), "responses[].entered_by": ("录入人", "Entered by"),
    "responses[].answered_at": ("作答时间", "Answered at"), "responses[].remark": ("意见", "Remark"),
    "responses[].answers": ("评分", "Scores"), "responses[].answers[]": ("{}", "{}"),
    "responses[].answers[].indicator": ("指标", "Indicator"),
    "responses[].answers[].expectation": ("期望", "Expectation"),
    "responses[].answers[].experience": ("感受", "Experience"),
    "results": ("调查结果", "Results"), "results.index": ("满意度指数", "Satisfaction index"),
    "results.response_rate": ("回收率", "Response rate"), "results.sample_size": ("样本量", "Sample size"),
    "results.responses": ("答卷数", "Responses"), "results.scale_max": None, "results.mean_weight": None,
    "results.mean_satisfaction": None,
    "results.indicators": ("各指标结果", "Per indicator"), "results.indicators[]": ("{}", "{}"),
    "results.segments": ("按客户类别", "By segment"), "results.segments[]": ("{}", "{}"),
    "links": ("一次性链接", "One-time links"), "links[]": ("链接 {}", "Link {}"), "links[].id": None,
    "links[].label": ("发送给", "Sent to"), "links[].customer_code": ("客户代码", "Customer code"),
    "links[].issued_at": ("发出时间", "Issued at"), "links[].expires_at": ("有效期至", "Expires at"),
    "links[].used_at": ("使用时间", "Used at"), "links[].revoked_at": ("撤回时间", "Withdrawn at"),
    "raised": ("由本调查提出", "Raised from this survey"), "raised[]": ("{}", "{}"),
    "raised[].kind": ("类别", "Kind"), "raised[].number": ("记录编号", "Record"),
    "raised[].indicator": ("指标", "Indicator"), "raised[].reason": ("原因", "Reason"),
    "trend": ("趋势（历次调查）", "Trend (earlier surveys)"), "trend[]": ("{}", "{}"),
    "trend[].number": ("记录编号", "Record"), "trend[].period_end": ("调查期间至", "Period to"),
    "trend[].index": ("满意度指数", "Index"),
    "conclusion": ("结论", "Conclusion"), "closed_at": ("完成时间", "Closed at"),
}
FORMATS = {
    "status": "SurveyStatus", "sample_method": "SampleMethod", "responses[].source": "SurveyResponseSource",
    "raised[].kind": "SurveyRaisedKind", "period_start": "date", "period_end": "date",
}


def _snapshot(record):
    return survey_snapshot(record.satisfaction_survey)


def _pdf_context(version):
    from . import charts  # noqa: PLC0415 — matplotlib only when a survey is printed

    return charts.report_charts(version.data)


SATISFACTION_SURVEY = register(RecordType(
    code="satisfaction_survey", prefix="SS", title_zh="顾客满意度调查报告", title_en="Customer Satisfaction Survey Report",
    form_code="QR-MK-007", form_revision="A/0", pdf_template="satisfaction/pdf/survey.html",
    snapshot=_snapshot, pdf_context=_pdf_context, field_labels=LABELS, field_formats=FORMATS,
    list_keys={"indicators": "position", "sample": "customer_code", "responses": "customer_code",
               "responses[].answers": "indicator", "links": "id", "raised": "number",
               "results.indicators": "position", "results.segments": "segment"},
    state_fields=frozenset({"status"}),
))

register_action_texts({
    "satisfaction.created": _("created the satisfaction survey %(title)s"),
    "satisfaction.plan_set": _("set the survey plan: %(indicators)s indicators, %(sample_size)s customers"),
    "satisfaction.opened": _("opened the survey for responses"),
    "satisfaction.response_entered": Sentence(_("recorded the response of %(customer)s (%(source)s)"),
                                              {"source": "SurveyResponseSource"}),
    "satisfaction.responses_imported": _("imported %(count)s responses from %(file)s"),
    "satisfaction.link_issued": _("issued a one-time link to %(label)s"),
    "satisfaction.link_revoked": _("withdrew the one-time link of %(label)s"),
    "satisfaction.closed": _("closed the survey and signed its report (index %(index)s)"),
    "satisfaction.raised": Sentence(_("raised %(kind)s %(number)s from the survey"), {"kind": "SurveyRaisedKind"}),
    "satisfaction.segment_set": _("set the segment of customer %(customer)s: %(segment)s"),
})
register_version_reasons({
    "survey created": _("survey created"),
    "plan set": _("survey plan set"),
    "opened for responses": _("opened for responses"),
    "^responses: (?P<source>[a-z]+)$": Sentence(_("responses: %(source)s"), {"source": "SurveyResponseSource"}),
    "link issued": _("link issued"),
    "link withdrawn": _("link withdrawn"),
    "survey closed": _("survey closed"),
    "^raised (?P<kind>[a-z_]+) (?P<number>[A-Z]+-[0-9]{4}-[0-9]{4})$": Sentence(
        _("raised %(kind)s %(number)s"), {"kind": "SurveyRaisedKind"}),
})


def register_statuses():
    register_status_labels(SurveyStatus)


PURPOSE = "satisfaction_survey"  # forms.models.OneTimeLink.purpose of a survey's links


def survey_snapshot(survey):
    """The survey's version data: plan, sample, responses, links (no token), what it raised and its
    results as they stand (results.survey_results)."""
    from forms.models import OneTimeLink  # noqa: PLC0415

    from .results import survey_results  # noqa: PLC0415

    indicators = list(survey.indicators.all())
    position = {i.pk: i.position for i in indicators}
    responses = list(survey.responses.select_related("customer", "entered_by").prefetch_related("answers"))
    links = OneTimeLink.objects.filter(purpose=PURPOSE, object_id=survey.pk).select_related("customer")
    return {
        "record_number": survey.record.number, "title": survey.title,
        "period_start": survey.period_start, "period_end": survey.period_end, "scale_max": survey.scale_max,
        "status": survey.status, "sample_method": survey.sample_method, "sample_segment": survey.sample_segment,
        "sample_size": survey.sample_size, "sample_seed": survey.sample_seed,
        "indicators": [{"position": i.position, "code": i.code, "name_zh": i.name_zh, "name_en": i.name_en,
                        "weight": float(i.weight)} for i in indicators],
        "sample": [{"customer_code": s.customer.code, "customer_name": s.customer.name_zh, "segment": s.segment}
                   for s in survey.sample.select_related("customer")],
        "responses": [{
            "customer_code": r.customer.code, "respondent": r.respondent, "source": r.source,
            "entered_by": r.entered_by.printed_name if r.entered_by_id else "", "answered_at": r.answered_at,
            "remark": r.remark,
            "answers": [{"indicator": position.get(a.indicator_id), "expectation": a.expectation,
                         "experience": a.experience}
                        for a in sorted(r.answers.all(), key=lambda a: position.get(a.indicator_id, 0))],
        } for r in responses],
        "links": [{"id": link.pk, "label": link.label, "customer_code": link.customer.code if link.customer_id else "",
                   "issued_at": link.created_at, "expires_at": link.expires_at, "used_at": link.used_at,
                   "revoked_at": link.revoked_at} for link in links.order_by("pk")],
        "raised": [{"kind": r.kind, "number": r.record.number, "indicator": position.get(r.indicator_id),
                    "reason": r.reason} for r in survey.raised.select_related("record")],
        "results": survey_results(survey),
        "trend": survey.trend, "conclusion": survey.conclusion, "closed_at": survey.closed_at,
    }
