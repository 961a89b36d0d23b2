"""Finding a drill definition from the command line: ORG/NAME, NAME (when unique) or its id."""

from django.core.management.base import CommandError

from apps.resilience.models import DrillDefinition


def find_definition(reference: str) -> DrillDefinition:
    organization, _, name = reference.rpartition("/")
    queryset = DrillDefinition.objects.select_related("organization")
    if reference.isdigit():
        found = queryset.filter(pk=int(reference))
    elif organization:
        found = queryset.filter(organization__slug=organization, name=name)
    else:
        found = queryset.filter(name=name)
    if found.count() != 1:
        raise CommandError(f"no single drill matches {reference!r}; use ORG/NAME or the drill id")
    return found.get()


def describe_run(run) -> str:
    """One line per run: id, drill, status, measured RTO/RPO against the objectives."""

    def measured(value, objective):
        return f"{value:.0f}s/{objective}s" if value is not None else f"-/{objective}s"

    when = run.started_at or run.created_at
    return (
        f"run {run.pk} {run.definition.organization.slug}/{run.definition.name} {when:%Y-%m-%d %H:%M} {run.status}"
        f" RTO {measured(run.rto_seconds, run.rto_objective_seconds)}"
        f" RPO {measured(run.rpo_seconds, run.rpo_objective_seconds)}"
    )
