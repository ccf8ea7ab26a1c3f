from django.core.management.base import BaseCommand

from core.verification import verify_all


class Command(BaseCommand):
    help = ("Recompute every hash of the audit trail, record versions, signatures and stored files; "
            "name each broken item and exit 1 if any.")

    def handle(self, *args, **options):
        counts, problems, warnings = verify_all()
        self.stdout.write("Checked: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
        for warning in warnings:
            self.stdout.write(self.style.WARNING(f"WARN {warning}"))
        for problem in problems:
            self.stdout.write(self.style.ERROR(f"FAIL {problem}"))
        if problems:
            self.stdout.write(self.style.ERROR(f"{len(problems)} problem(s) found; first: {problems[0]}"))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("OK: every hash and link verifies"))
