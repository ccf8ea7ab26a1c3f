"""Customer satisfaction measurement (ISO 9001 9.1.2; issue 17): the satisfaction survey
(顾客满意度调查, QR-MK-007) — its plan (period, customer sample, indicators with importance
weights, scale), the responses (expectation and experience per indicator) and what its low
indicators raised. A controlled record; closing it signs the report (the Market manager)."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import BilingualChoices
from forms.models import Customer


class SurveyStatus(BilingualChoices):
    DRAFT = "draft", "草稿", "Draft"
    COLLECTING = "collecting", "收集答卷中", "Collecting responses"
    CLOSED = "closed", "已完成", "Closed"


class SampleMethod(BilingualChoices):
    ALL = "all", "全部客户", "All customers"
    SEGMENT = "segment", "按客户类别", "By customer segment"
    RANDOM = "random", "随机抽样", "Random sample"


class SurveyResponseSource(BilingualChoices):
    ENTERED = "entered", "市场部录入", "Entered by Market"
    IMPORTED = "imported", "文件导入", "Imported from a file"
    LINK = "link", "客户在线填写", "Answered by the customer online"


class SurveyRaisedKind(BilingualChoices):
    CAPA = "capa", "纠正预防措施", "Corrective action (CAPA)"
    REQUIREMENT = "requirement", "顾客需求", "Customer requirement (P5)"


#: the default indicators of a new survey: (code, 中文, English, importance weight)
DEFAULT_INDICATORS = (
    ("quality", "产品质量", "Quality", 5),
    ("delivery", "交货期", "Delivery", 4),
    ("price", "价格", "Price", 3),
    ("service", "服务", "Service", 3),
    ("communication", "沟通", "Communication", 2),
)


class CustomerSegment(models.Model):
    """The segment (客户类别) a customer belongs to, for sampling and the index by segment."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="satisfaction_segment")
    segment = models.CharField(_("segment"), max_length=60)

    class Meta:
        ordering = ["customer__code"]

    def __str__(self):
        return f"{self.customer.code}: {self.segment}"


class SatisfactionSurvey(models.Model):
    record = models.OneToOneField("core.Record", on_delete=models.PROTECT, related_name="satisfaction_survey")
    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    scale_max = models.PositiveSmallIntegerField(_("scale (1 to)"), default=5)
    sample_method = models.CharField(_("sample"), max_length=10, choices=SampleMethod.choices,
                                     default=SampleMethod.ALL)
    sample_segment = models.CharField(_("segment"), max_length=60, blank=True)
    sample_size = models.PositiveIntegerField(_("sample size"), null=True, blank=True)
    sample_seed = models.BigIntegerField(_("random seed"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)
    # the earlier closed surveys' indexes when this one closed: [{"number", "period_end", "index"}] (frozen)
    trend = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.record.number} · {self.title}"


class SurveyIndicator(models.Model):
    survey = models.ForeignKey(SatisfactionSurvey, on_delete=models.PROTECT, related_name="indicators")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40)
    name_zh = models.CharField(_("indicator (Chinese)"), max_length=100)
    name_en = models.CharField(_("indicator (English)"), max_length=100)
    weight = models.DecimalField(_("importance weight"), max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["survey", "position"]
        constraints = [models.UniqueConstraint(fields=["survey", "position"], name="survey_indicator_position"),
                       models.UniqueConstraint(fields=["survey", "code"], name="survey_indicator_code")]

    def __str__(self):
        return f"{self.name_zh} {self.name_en}"


class SurveyCustomer(models.Model):
    """A customer of the survey's sample, with the segment they had when it was drawn."""

    survey = models.ForeignKey(SatisfactionSurvey, on_delete=models.PROTECT, related_name="sample")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    segment = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["survey", "customer__code"]
        constraints = [models.UniqueConstraint(fields=["survey", "customer"], name="survey_sample_customer")]


class SurveyResponse(models.Model):
    """One customer's questionnaire."""

    survey = models.ForeignKey(SatisfactionSurvey, on_delete=models.PROTECT, related_name="responses")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    respondent = models.CharField(_("respondent"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=SurveyResponseSource.choices)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    link = models.OneToOneField("forms.OneTimeLink", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="satisfaction_response")
    remark = models.TextField(_("remark"), blank=True)
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["survey", "id"]
        constraints = [models.UniqueConstraint(fields=["survey", "customer"], name="one_response_per_customer")]


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.PROTECT, related_name="answers")
    indicator = models.ForeignKey(SurveyIndicator, on_delete=models.PROTECT, related_name="answers")
    expectation = models.PositiveSmallIntegerField()
    experience = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["response", "indicator"]
        constraints = [models.UniqueConstraint(fields=["response", "indicator"], name="one_answer_per_indicator")]


class SurveyRaised(models.Model):
    """A CAPA or a P5 requirement a low indicator raised (linked both ways: the raised record
    names the survey as its source)."""

    survey = models.ForeignKey(SatisfactionSurvey, on_delete=models.PROTECT, related_name="raised")
    indicator = models.ForeignKey(SurveyIndicator, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=SurveyRaisedKind.choices)
    record = models.ForeignKey("core.Record", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["survey", "id"]
