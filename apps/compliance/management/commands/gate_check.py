import json

from django.core.management.base import BaseCommand, CommandError

from apps.compliance.services import gate_check

from ._lookup import environment_get, organization_get, version_get


class Command(BaseCommand):
    help = "Ask the deploy gate whether FAMILY@VERSION may go to ENV: exit 0 allowed, 1 denied; one line per reason."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--image", required=True, help="FAMILY@VERSION")
        parser.add_argument("--env", required=True, help="environment slug")
        parser.add_argument("--json", action="store_true", help="print the decision as JSON")

    def handle(self, *args, org, image, env, json: bool = False, **options):
        organization = organization_get(org)
        version = version_get(organization, image)
        environment = environment_get(organization, env)
        decision = gate_check(actor=None, version=version, environment=environment)
        verdict = "allowed" if decision.allowed else "denied"
        if json:
            self.stdout.write(_json(decision, version, environment))
        else:
            self.stdout.write(f"{version} → {environment.slug}: {verdict} (decision {decision.pk})")
            for reason in decision.reasons:
                self.stdout.write(f"{reason['severity']}: {reason['code']}: {reason['detail']}")
        if not decision.allowed:
            denies = sum(1 for r in decision.reasons if r["severity"] == "deny")
            raise CommandError(f"{version} may not go to {environment.slug}: {denies} denying reason(s)", returncode=1)


def _json(decision, version, environment) -> str:
    body = {
        "allowed": decision.allowed,
        "image": str(version),
        "environment": environment.slug,
        "signature": decision.verification.result,
        "decision": decision.pk,
        "reasons": decision.reasons,
    }
    return json.dumps(body, indent=2)
