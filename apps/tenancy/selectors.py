"""Reads of the tenancy app: restricted querysets and small summaries for the portal."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Environment, Membership, Organization, Project, Site


def organization_list(user):
    """Organisations the user can see."""
    return Organization.objects.restrict(user, "view").order_by("name")


def organization_get(user, slug: str) -> Organization:
    """One visible organisation by slug; raises Organization.DoesNotExist otherwise (a 404 for the caller)."""
    return organization_list(user).get(slug=slug)


@dataclass(frozen=True)
class OrganizationOverview:
    organization: Organization
    projects: list
    environments: list
    sites: list
    member_count: int


def organization_overview(user, organization: Organization) -> OrganizationOverview:
    """What the dashboard shows of one organisation, read through the one door."""
    return OrganizationOverview(
        organization=organization,
        projects=list(Project.objects.restrict(user, "view").filter(organization=organization)),
        environments=list(Environment.objects.restrict(user, "view").filter(organization=organization)),
        sites=list(Site.objects.restrict(user, "view").filter(organization=organization)),
        member_count=Membership.objects.restrict(user, "view").filter(organization=organization).count(),
    )


def current_organization(request) -> Organization | None:
    """The organisation the portal shows: ``?org=`` or the session's choice, else the user's first one."""
    organizations = organization_list(request.user)
    slug = request.GET.get("org") or request.session.get("qlrf_org")
    chosen = organizations.filter(slug=slug).first() if slug else None
    chosen = chosen or organizations.first()
    if chosen is not None and request.session.get("qlrf_org") != chosen.slug:
        request.session["qlrf_org"] = chosen.slug
    return chosen
