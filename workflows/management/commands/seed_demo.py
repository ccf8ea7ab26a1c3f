"""Seed the bilingual demo company: people per department and role, customers, products, the
2026 company calendar, then each registered procedure's demo data (core.registry, in seeding
order: document control first, whose controlled forms the other records print). Idempotent:
running it twice adds nothing."""
from django.core import mail
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from core.registry import procedures
from inbox.calendar_seed import seed_2026
from workflows.demo import DEMO_PASSWORD, create_catalog, create_people


class Command(BaseCommand):
    help = "Create the demo company (users per department and role, customers, products) and each procedure's demo."

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
        if seed_2026():  # before any task exists, so the demo's due dates skip the holidays
            self.stdout.write("Seeded the 2026 company calendar (public holidays and make-up working days).")
        ordered = sorted(procedures(), key=lambda p: p.seed_order)
        for step in ("seed", "late_seed"):  # every procedure's own demo, then what needs the others' demo data
            for procedure in ordered:
                if getattr(procedure, step):
                    said = import_string(getattr(procedure, step))(users)
                    if said:
                        self.stdout.write(said)
        self.stdout.write(self.style.SUCCESS(
            f"Demo company ready. Users: {', '.join(sorted(users))} — password {DEMO_PASSWORD}"))
