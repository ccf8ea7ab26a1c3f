from django.core.management.base import BaseCommand

from inbox.calendar_seed import seed_2026


class Command(BaseCommand):
    help = "Add China's 2026 public holidays and make-up working days to the company calendar (idempotent)."

    def handle(self, *args, **options):
        self.stdout.write(f"{seed_2026()} calendar days added")
