from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaskDraft(models.Model):
    """A step's form saved without completing the step (one draft per task and user).
    `data` holds the form's fields as the API would send them; files are not kept
    in drafts. Deleted when the task is completed."""

    task = models.ForeignKey("viewflow.Task", on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="task_drafts")
    data = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Draft")
        verbose_name_plural = _("Drafts")
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="one_draft_per_task_and_user")]

    def __str__(self):
        return f"draft of task {self.task_id} by {self.user_id}"


# --- due dates: the company calendar and the target duration of each step ---------------------------


class CalendarDay(models.Model):
    """An exception to the working week (QMS["WORKING_WEEKDAYS"]): a public holiday on a
    working weekday, or a make-up working day (调休上班) on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.HOLIDAY)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("company calendar")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name_zh} {self.name_en}".strip()


class StepTarget(models.Model):
    """The target duration of one step of one flow and the timing of its reminder and
    escalations. An empty value falls back to the default in settings QMS."""

    flow = models.CharField(_("flow"), max_length=100)  # the flow class name, e.g. OrderReviewFlow
    step = models.CharField(_("step"), max_length=100)  # the node name, e.g. review_quality
    working_days = models.PositiveSmallIntegerField(_("target (working days)"), null=True, blank=True)
    reminder_hours = models.PositiveSmallIntegerField(_("reminder before due (hours)"), null=True, blank=True)
    l1_after_hours = models.PositiveSmallIntegerField(_("level 1 after due (hours)"), null=True, blank=True)
    l2_after_working_days = models.PositiveSmallIntegerField(_("level 2 after due (working days)"),
                                                             null=True, blank=True)
    l3_after_working_days = models.PositiveSmallIntegerField(_("level 3 after due (working days)"),
                                                             null=True, blank=True)

    class Meta:
        verbose_name = _("step target")
        verbose_name_plural = _("step targets")
        constraints = [models.UniqueConstraint(fields=["flow", "step"], name="one_target_per_step")]

    def __str__(self):
        return f"{self.flow}.{self.step}"


class DueSource(models.TextChoices):
    STEP = "step", _("set by the step")
    TARGET = "target", _("step target")


class TaskDeadline(models.Model):
    """The due date of one human task and how far its reminder and escalations have
    gone. Written when the task is created; `next_check_at` (indexed) is when the
    scheduler must look at it next, null once nothing is left to send or the task
    is finished, so the scheduler never scans finished work."""

    task = models.OneToOneField("viewflow.Task", on_delete=models.CASCADE, primary_key=True,
                                related_name="deadline")
    due_date = models.DateField(_("due"), db_index=True)
    due_at = models.DateTimeField(db_index=True)  # the moment it becomes overdue: start of the day after due_date
    source = models.CharField(max_length=10, choices=DueSource.choices)
    remind_at = models.DateTimeField(null=True, blank=True)
    l1_at = models.DateTimeField()
    l2_at = models.DateTimeField()
    l3_at = models.DateTimeField()
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    l1_sent_at = models.DateTimeField(null=True, blank=True)
    l2_sent_at = models.DateTimeField(null=True, blank=True)
    l3_sent_at = models.DateTimeField(null=True, blank=True)
    level = models.PositiveSmallIntegerField(default=0)  # highest escalation level reached
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("task deadline")
        verbose_name_plural = _("task deadlines")

    def __str__(self):
        return f"task {self.task_id} due {self.due_date}"


class Escalation(models.Model):
    """One reminder (level 0) or escalation (levels 1-3) sent for a task."""

    class Level(models.IntegerChoices):
        REMINDER = 0, _("Reminder")
        ASSIGNEE = 1, _("Level 1: assignee or queue")
        MANAGER = 2, _("Level 2: department manager")
        TOP = 3, _("Level 3: quality manager and General Manager")

    task = models.ForeignKey("viewflow.Task", on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    recipients = models.JSONField(default=list)  # usernames
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["sent_at", "level"]
        constraints = [models.UniqueConstraint(fields=["task", "level"], name="one_escalation_per_level")]


# --- notifications -----------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("Task assigned to me")
    REMINDER = "reminder", _("Task due soon")
    ESCALATION = "escalation", _("Task overdue (escalation)")
    REJECTED = "rejected", _("Rejection of my process or my record")
    PROCESS_COMPLETED = "process_completed", _("Process I started completed")
    CALENDAR = "calendar", _("Company calendar needs a year's holidays")
    REPORT = "report", _("Periodic report to review")


class Notification(models.Model):
    """One in-app notification, written in the recipient's language when it was sent."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(max_length=500, blank=True)
    task = models.ForeignKey("viewflow.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    process = models.ForeignKey("viewflow.Process", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    created = models.DateTimeField(_("sent"), db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at", "-created"], name="notification_unread_first")]

    def __str__(self):
        return self.title


class NotificationPreference(models.Model):
    """A user's channels for one kind of notification; without a row, both are on."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences")
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    email = models.BooleanField(_("e-mail"), default=True)
    in_app = models.BooleanField(_("in the application"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")]


class Delegation(models.Model):
    """An absence: from `starts_on` to `ends_on` (whole days, both inclusive, in the
    company's time zone) new tasks assigned directly to the delegator go to the
    substitute, who signs "on behalf of" the delegator. Created, validated and
    cancelled only through `inbox.delegation` (one place for the rules); never
    deleted: a cancellation ends it at `cancelled_at` and stays on record."""

    delegator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_given",
                                  verbose_name=_("absent person"))
    substitute = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_received",
                                   verbose_name=_("substitute"))
    starts_on = models.DateField(_("absent from"))
    ends_on = models.DateField(_("absent until (inclusive)"))
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("cancelled by"))
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)

    class Meta:
        db_table = "accounts_delegation"  # kept from before the move to this app
        verbose_name = _("absence / delegation")
        verbose_name_plural = _("absences / delegations")
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["delegator", "starts_on", "ends_on"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                   name="delegation_ends_after_start"),
            models.CheckConstraint(condition=~models.Q(delegator=models.F("substitute")),
                                   name="delegation_not_to_oneself"),
        ]

    def __str__(self):
        return f"{self.delegator} → {self.substitute} ({self.starts_on} – {self.ends_on})"
