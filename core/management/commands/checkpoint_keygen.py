from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.checkpoints import generate_key_pair


class Command(BaseCommand):
    help = ("Generate the Ed25519 key pair that signs the audit checkpoints (docs/AUDIT-ANCHORING.md). The private "
            "key must live outside the database and the repository; this command refuses a path inside the project.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="where to write the private key, e.g. /etc/qms/checkpoint-key.pem "
                                         "(the public key is written beside it as <name>.pub.pem)")

    def handle(self, *args, path, **options):
        target = Path(path).expanduser().resolve()
        project = Path(settings.BASE_DIR).resolve()
        if target == project or project in target.parents:
            raise CommandError(f"refusing to write the private key inside the project directory {project}: it "
                               f"must not end up in the repository, a backup of the code or the database")
        try:
            private, public, kid = generate_key_pair(target)
        except FileExistsError:
            raise CommandError(f"{target} exists: a checkpoint key is never overwritten (older checkpoints were "
                               f"signed with it); choose another path")
        self.stdout.write(self.style.SUCCESS(f"Private key: {private} (mode 0600), key id {kid}"))
        self.stdout.write(f"Public key:  {public}")
        self.stdout.write(
            "\nKeep the private key OUTSIDE the database and the repository, readable only by the account that runs\n"
            "the Celery worker and beat and `manage.py verify_audit` (not by the database or its backups):\n"
            f"    QMS_CHECKPOINT_KEY_FILE={private}\n"
            "    QMS_CHECKPOINT_DIR=/path/to/an/append-only/store   (another machine or a write-once mount)\n"
            "Keep an offline copy of the private key (e.g. on removable media in the quality manager's safe).\n"
            "Machines that only verify need the public key, not the private one:\n"
            f"    QMS_CHECKPOINT_PUBLIC_KEY_FILE={public}\n"
            "After a key rotation append the new public key to that file: older checkpoints keep verifying.")
