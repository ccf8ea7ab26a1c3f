"""The satisfaction figures, computed from the database (no state change here; the pages, the API,
the report PDF and the management-review pack read them).

Per indicator i of a survey on the scale 1…S (S = survey.scale_max), over the responses:

- mean expectation E_i and mean experience X_i (arithmetic means of the answers, 4 decimals);
- gap_i = X_i − E_i (negative: the customers experience less than they expect);
- satisfaction_i = (X_i − 1) / (S − 1) × 100 — the mean experience put on 0…100.

The satisfaction index of the survey (0…100), overall or over the responses of one customer segment:

    index = Σ w_i · (X_i − 1) / (S − 1)  /  Σ w_i  × 100

over the indicators with at least one answer, w_i the indicator's importance weight. Rounded to 1 decimal.

The importance × satisfaction quadrant of an indicator compares its weight with the mean weight of
the survey's indicators and its satisfaction_i with the mean satisfaction_i of the indicators:

- importance ≥ mean and satisfaction ≥ mean → keep (保持优势)
- importance ≥ mean and satisfaction < mean → improve first (优先改进)
- importance < mean and satisfaction < mean → low priority (次要改进)
- importance < mean and satisfaction ≥ mean → possible overkill (可能过度)

An indicator is *low* when its satisfaction_i is under LOW_THRESHOLD (60) or its gap under −1: such
an indicator may raise a CAPA or a P5 requirement (actions.raise_from_indicator).

Response rate = responses / customers in the sample."""
from decimal import ROUND_HALF_UP, Decimal

from .models import SatisfactionSurvey, SurveyAnswer, SurveyStatus

LOW_THRESHOLD = 60
LOW_GAP = -1

KEEP, IMPROVE_FIRST, LOW_PRIORITY, OVERKILL = "keep", "improve_first", "low_priority", "overkill"
QUADRANT_LABELS = {  # (中文, English)
    KEEP: ("保持优势", "Keep"),
    IMPROVE_FIRST: ("优先改进", "Improve first"),
    LOW_PRIORITY: ("次要改进", "Low priority"),
    OVERKILL: ("可能过度", "Possible overkill"),
}


def _round(value, places="0.0001"):
    if value is None:
        return None
    return float(Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _satisfaction(mean_experience, scale_max):
    return (Decimal(mean_experience) - 1) / (Decimal(scale_max) - 1) * 100


def _answers(survey, segment=None):
    """{indicator pk: [(expectation, experience)]} of the survey's responses (of `segment` when given:
    the segment recorded with the customer in the sample)."""
    rows = SurveyAnswer.objects.filter(response__survey=survey)
    if segment is not None:
        sampled = survey.sample.filter(segment=segment).values_list("customer_id", flat=True)
        rows = rows.filter(response__customer_id__in=list(sampled))
    by_indicator = {}
    for indicator_id, expectation, experience in rows.values_list("indicator_id", "expectation", "experience"):
        by_indicator.setdefault(indicator_id, []).append((expectation, experience))
    return by_indicator


def _index(indicators, means, scale_max):
    """The weighted index from {indicator pk: mean experience (Decimal)}; None without answers."""
    weighted = total = Decimal(0)
    for indicator in indicators:
        if indicator.pk in means:
            weighted += indicator.weight * (means[indicator.pk] - 1) / (Decimal(scale_max) - 1)
            total += indicator.weight
    if not total:
        return None
    return weighted / total * 100


def _means(by_indicator):
    """{indicator pk: (mean expectation, mean experience, n)} as Decimals."""
    means = {}
    for pk, pairs in by_indicator.items():
        n = len(pairs)
        means[pk] = (Decimal(sum(p[0] for p in pairs)) / n, Decimal(sum(p[1] for p in pairs)) / n, n)
    return means


def quadrant(weight, satisfaction, mean_weight, mean_satisfaction):
    important = Decimal(weight) >= Decimal(mean_weight)
    satisfied = Decimal(satisfaction) >= Decimal(mean_satisfaction)
    if important:
        return KEEP if satisfied else IMPROVE_FIRST
    return OVERKILL if satisfied else LOW_PRIORITY


def survey_results(survey):
    """Everything the results page, the report and the API show of a survey:

    {"scale_max", "sample_size", "responses", "response_rate" (0…1 or None), "index" (0…100 or None),
     "indicators": [{"position", "code", "name_zh", "name_en", "weight", "answered", "mean_expectation",
                     "mean_experience", "gap", "satisfaction", "quadrant", "low"}],
     "segments": [{"segment", "sample_size", "responses", "index"}],
     "mean_weight", "mean_satisfaction"}"""
    indicators = list(survey.indicators.all())
    means = _means(_answers(survey))
    index = _index(indicators, {pk: m[1] for pk, m in means.items()}, survey.scale_max)
    rows = []
    for indicator in indicators:
        mean = means.get(indicator.pk)
        rows.append({
            "position": indicator.position, "code": indicator.code, "name_zh": indicator.name_zh,
            "name_en": indicator.name_en, "weight": _round(indicator.weight, "0.01"),
            "answered": mean[2] if mean else 0,
            "mean_expectation": _round(mean[0]) if mean else None,
            "mean_experience": _round(mean[1]) if mean else None,
            "gap": _round(mean[1] - mean[0]) if mean else None,
            "satisfaction": _round(_satisfaction(mean[1], survey.scale_max), "0.1") if mean else None,
        })
    answered = [(i, r) for i, r in zip(indicators, rows) if r["answered"]]
    mean_weight = mean_satisfaction = None
    if answered:
        mean_weight = sum(i.weight for i, _r in answered) / len(answered)
        mean_satisfaction = sum(_satisfaction(means[i.pk][1], survey.scale_max) for i, _r in answered) / len(answered)
    for indicator, row in zip(indicators, rows):
        if row["answered"]:
            row["quadrant"] = quadrant(indicator.weight, _satisfaction(means[indicator.pk][1], survey.scale_max),
                                       mean_weight, mean_satisfaction)
            row["low"] = row["satisfaction"] < LOW_THRESHOLD or row["gap"] < LOW_GAP
        else:
            row["quadrant"], row["low"] = "", False
    sample = list(survey.sample.values_list("customer_id", "segment"))
    responded = set(survey.responses.values_list("customer_id", flat=True))
    segments = []
    for segment in sorted({s for _c, s in sample if s}):
        members = [c for c, s in sample if s == segment]
        seg_means = _means(_answers(survey, segment))
        seg_index = _index(indicators, {pk: m[1] for pk, m in seg_means.items()}, survey.scale_max)
        segments.append({"segment": segment, "sample_size": len(members),
                         "responses": len([c for c in members if c in responded]),
                         "index": _round(seg_index, "0.1")})
    return {
        "scale_max": survey.scale_max, "sample_size": len(sample), "responses": len(responded),
        "response_rate": _round(Decimal(len(responded)) / len(sample)) if sample else None,
        "index": _round(index, "0.1"), "indicators": rows, "segments": segments,
        "mean_weight": _round(mean_weight, "0.01"), "mean_satisfaction": _round(mean_satisfaction, "0.1"),
    }


def survey_index(survey):
    """The survey's overall satisfaction index (0…100, 1 decimal) or None without answers."""
    indicators = list(survey.indicators.all())
    means = _means(_answers(survey))
    return _round(_index(indicators, {pk: m[1] for pk, m in means.items()}, survey.scale_max), "0.1")


def trend(survey=None, *, upto=None):
    """The closed surveys before `survey` (or whose period ends on or before `upto`), oldest first, and
    `survey` itself last: [{"number", "title", "period_start", "period_end", "index"}]."""
    closed = SatisfactionSurvey.objects.filter(status=SurveyStatus.CLOSED).select_related("record")
    if survey is not None:
        closed = closed.filter(period_end__lte=survey.period_end).exclude(pk=survey.pk)
    if upto is not None:
        closed = closed.filter(period_end__lte=upto)
    points = list(closed.order_by("period_end", "pk"))
    if survey is not None:
        points.append(survey)
    return [{"number": s.record.number, "title": s.title, "period_start": s.period_start,
             "period_end": s.period_end, "index": survey_index(s)} for s in points]


def follow_up_figures(start, end):
    """P2's follow-up satisfaction (回访满意度) of the complaints and returns closed from `start` to `end`:
    {"count", "mean_score", "scale_max", "index" (0…100), "satisfied" (score ≥ scale − 1), "cases": [...]}."""
    from procedures.complaints.entry import follow_up_satisfaction  # noqa: PLC0415 — P2's declared entry point

    rows, scale_max = follow_up_satisfaction(start, end)
    count = len(rows)
    mean = Decimal(sum(r["score"] for r in rows)) / count if count else None
    return {"count": count, "mean_score": _round(mean, "0.01"), "scale_max": scale_max,
            "index": _round(_satisfaction(mean, scale_max), "0.1") if count else None,
            "satisfied": sum(1 for r in rows if r["score"] >= scale_max - 1), "cases": rows}


def period_summary(start, end):
    """The customer-satisfaction input of a management review for the period `start`…`end` (dates,
    inclusive) — computed from the database now. Returned keys:

    - "period_start", "period_end": the dates given;
    - "surveys": the surveys closed whose period ends in the period, oldest first: [{"number", "title",
      "period_start", "period_end", "closed_at", "index" (0…100 or None), "sample_size", "responses",
      "response_rate" (0…1 or None), "low_indicators": [{"code", "name_zh", "name_en", "satisfaction",
      "gap", "quadrant"}], "segments": [{"segment", "sample_size", "responses", "index"}]}];
    - "index": the index of the latest of those surveys (None when none closed in the period);
    - "index_change": that index minus the previous closed survey's (None when either is missing);
    - "trend": every closed survey whose period ends on or before `end`, oldest first:
      [{"number", "title", "period_start", "period_end", "index"}];
    - "response_rate": responses / sampled customers over the period's surveys (0…1, None when none);
    - "follow_up": P2's follow-up satisfaction of the cases closed in the period: {"count", "mean_score"
      (1…scale_max), "scale_max", "index" (0…100), "satisfied" (count of scores ≥ scale_max − 1),
      "cases": [{"number", "kind", "customer_code", "closed_on", "score", "remark"}]}.

    Numbers are floats (rounded: indexes 1 decimal, rates 4), dates are datetime.date."""
    in_period = list(SatisfactionSurvey.objects.filter(status=SurveyStatus.CLOSED, period_end__gte=start,
                                                       period_end__lte=end)
                     .select_related("record").order_by("period_end", "pk"))
    surveys, sampled, answered = [], 0, 0
    for survey in in_period:
        result = survey_results(survey)
        sampled += result["sample_size"]
        answered += result["responses"]
        surveys.append({
            "number": survey.record.number, "title": survey.title, "period_start": survey.period_start,
            "period_end": survey.period_end, "closed_at": survey.closed_at, "index": result["index"],
            "sample_size": result["sample_size"], "responses": result["responses"],
            "response_rate": result["response_rate"],
            "low_indicators": [{k: row[k] for k in ("code", "name_zh", "name_en", "satisfaction", "gap", "quadrant")}
                               for row in result["indicators"] if row["low"]],
            "segments": result["segments"],
        })
    points = trend(upto=end)
    index = surveys[-1]["index"] if surveys else None
    change = None
    if surveys:
        numbers = [p["number"] for p in points]
        at = numbers.index(surveys[-1]["number"])
        if at > 0 and points[at - 1]["index"] is not None and index is not None:
            change = round(index - points[at - 1]["index"], 1)
    return {
        "period_start": start, "period_end": end, "surveys": surveys, "index": index, "index_change": change,
        "trend": points, "response_rate": _round(Decimal(answered) / sampled) if sampled else None,
        "follow_up": follow_up_figures(start, end),
    }
