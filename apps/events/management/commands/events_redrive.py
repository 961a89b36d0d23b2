from django.core.management.base import BaseCommand, CommandError

from apps.events.models import DeadLetter
from apps.events.services.inbound import dead_letter_redrive


class Command(BaseCommand):
    help = "Feed dead letters through the inbound consumer again (after a fix): by id, or --all not yet redriven."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="dead letter ids")
        parser.add_argument("--all", action="store_true", help="every dead letter not redriven yet")

    def handle(self, *args, ids=(), all=False, **options):  # noqa: A002
        if not ids and not all:
            raise CommandError("give dead letter ids or --all")
        letters = DeadLetter.objects.filter(redriven_at__isnull=True)
        if ids:
            letters = DeadLetter.objects.filter(pk__in=ids)
            missing = set(ids) - set(letters.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no dead letter {', '.join(map(str, sorted(missing)))}")
        for letter in letters.order_by("pk"):
            self.stdout.write(f"dead letter {letter.pk}: {dead_letter_redrive(letter=letter)}")
