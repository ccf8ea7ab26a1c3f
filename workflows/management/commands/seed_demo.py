"""Seed the bilingual demo company and a few P1 processes in different states.
Idempotent: running it twice adds nothing."""
import datetime

from django.core import mail
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils import timezone

from forms.models import OrderReview
from workflows import steps
from workflows.demo import DEMO_PASSWORD, act_as, create_catalog, create_people
from workflows.order_review import OrderReviewFlow


def _day(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def _order(number, customer, kind="order", qty="500"):
    return {"kind": kind, "customer": customer, "order_number": number, "order_date": timezone.localdate().isoformat(),
            "payment_terms": "月结 30 天 Net 30", "delivery_place": "上海 Shanghai", "transport": "纸箱 Carton",
            "special_requirements": "RoHS 合规 RoHS compliant",
            "lines": [{"product": "P-1001", "quantity": qty, "unit_price": "12.50", "delivery_date": _day(30)},
                      {"product": "P-2001", "quantity": "120", "unit_price": "45.00", "delivery_date": _day(40)}]}


class Command(BaseCommand):
    help = "Create the demo company (users per department and role, customers, products) and sample P1 processes."

    def handle(self, *args, **options):
        # The seeded tasks notify their owners like any other task: the in-app notifications
        # are kept (the demo's users find them), the e-mails are composed but not sent, so
        # that the console backend does not bury this command's output under fifty mails.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            previous, mail.outbox = getattr(mail, "outbox", None), []
            try:
                self.seed()
                composed = len(mail.outbox)
            finally:
                if previous is not None:  # under a test runner, give its outbox back
                    mail.outbox = previous
        if composed:
            self.stdout.write(f"{composed} notification e-mails were composed while seeding and not sent "
                              "(the in-app notifications are kept).")

    def seed(self):
        users = create_people()
        create_catalog()
        from inbox.calendar_seed import seed_2026

        if seed_2026():  # before any task exists, so the demo's due dates skip the holidays
            self.stdout.write("Seeded the 2026 company calendar (public holidays and make-up working days).")
        from procedures.seed import seed_documents

        issued = seed_documents(users, DEMO_PASSWORD)
        if issued:
            self.stdout.write(f"Issued {issued} controlled documents (procedures and forms), revision A/0.")
        from workflows.demo import seed_complaints

        if seed_complaints(users):
            self.stdout.write("Seeded complaint / return cases (P2) in different states and an analysis to sign.")
        if OrderReview.objects.exists():
            self.stdout.write("Demo processes already exist; people and catalogue checked.")
            return
        flow = OrderReviewFlow

        def start(user, data):
            node = flow.start
            return steps.start_process(node, actor=user, form=node.make_form(data=data, api=True))

        def act(process, step, username, data, meaning=None):
            act_as(users[username], process, step, data, meaning=meaning)

        def reviews(process, verdicts=None):
            for dept in ["quality", "production", "engineering", "materials"]:
                verdict = (verdicts or {}).get(dept, "can_meet")
                data = {"verdict": verdict, "comment": "" if verdict == "can_meet" else "产能紧张，需延期一周 capacity tight, one week later"}
                if dept == "materials":
                    data["material_readiness"] = "ready"
                act(process, f"review_{dept}", dept, data, meaning="reviewed")

        # 1. just received: four reviews waiting in the department queues
        start(users["market"], _order("PO-DEMO-001", "C001"))
        # 2. reviewed, waiting for the Market manager's approval
        p2 = start(users["market"], _order("PO-DEMO-002", "C002", qty="150"))
        reviews(p2)
        # 3. production set conditions: Market must negotiate
        p3 = start(users["market"], _order("PO-DEMO-003", "C003"))
        reviews(p3, {"production": "conditions"})
        # 4. a contract, approved by the General Manager, plan written: accepted and in the ledger
        # (its record PDF is rendered by the Celery worker once it runs)
        p4 = start(users["market"], _order("CT-DEMO-004", "C001", kind="contract", qty="2000"))
        reviews(p4)
        act(p4, "approve", "gm", {"conclusion": "同意签订 Contract approved"}, meaning="approved")
        act(p4, "write_plan", "materials", {"planned_start": _day(1), "planned_finish": _day(25),
                                            "material_readiness": "钢材已备 steel in stock"}, meaning="authored")
        self.stdout.write(self.style.SUCCESS(
            f"Demo company ready. Users: {', '.join(sorted(users))} — password {DEMO_PASSWORD}"))
