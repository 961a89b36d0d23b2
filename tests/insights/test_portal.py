"""The "Why?" panel on the dashboard, the environment/cell page, and the heatmap cells' links to it."""

import pytest
from django.urls import reverse

from apps.insights.models import InsightProvider

pytestmark = pytest.mark.django_db


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_dashboard_shows_the_why_panel_with_links_per_environment(tenant_a, sites, fleet):
    page = client_for(tenant_a.users["viewer"]).get(reverse("portal:dashboard")).content.decode()
    assert '<h2 id="why-heading-main">Why?</h2>' in page
    assert "alpha: 12 of 12 machine(s) drift (coverage 0.0%)." in page
    assert "Source: deterministic (explain v1)." in page
    assert f'href="{reverse("insights:why")}?env=prod"' in page
    assert f'<a class="heat-why" href="{reverse("insights:why")}?env=prod&amp;site=aws-eu">Why?</a>' in page
    assert "env=prod&amp;site=aws-us" not in page  # a cell without drift has no Why? link
    cell = client_for(tenant_a.users["viewer"]).get(reverse("insights:why"), {"env": "prod", "site": "aws-eu"})
    cell_page = cell.content.decode()
    assert "site aws-eu" in cell_page and "#1 Promoted, grace period ended: 12 machines" in cell_page


def test_the_environment_page_lists_causes_and_machines(tenant_a, fleet):
    response = client_for(tenant_a.users["viewer"]).get(reverse("insights:why"), {"env": "prod"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "environment prod" in page and "gracenended" not in page
    assert "#1 Promoted, grace period ended: 12 machines" in page
    assert "Roll the machines of prod to ubuntu-2204-base@1.1.0" in page


def test_an_unreachable_model_falls_back_and_says_so(tenant_a, fleet):
    InsightProvider.objects.create(
        organization=tenant_a.organization, enabled=True, kind="openai", model="m", base_url="http://127.0.0.1:9"
    )
    page = client_for(tenant_a.users["viewer"]).get(reverse("insights:why"), {"env": "prod"}).content.decode()
    assert "Source: deterministic (explain v1); model unavailable: " in page  # nothing listens on port 9
    assert "12 of 12 machine(s) drift" in page


@pytest.mark.parametrize(
    ("params", "status", "text"),
    [
        ({"env": "nope"}, 400, "unknown environment &#x27;nope&#x27; (invalid_parameter)"),
        ({"as_of": "soon"}, 400, "(invalid_as_of)"),
        ({"as_of": "2001-01-01"}, 404, "(no_snapshot_before)"),
    ],
)
def test_bad_parameters_are_4xx_with_the_reason(tenant_a, fleet, params, status, text):
    response = client_for(tenant_a.users["viewer"]).get(reverse("insights:why"), params)
    assert response.status_code == status and text in response.content.decode()


def test_another_tenant_sees_only_its_own_fleet(tenant_b, fleet):
    page = client_for(tenant_b.users["viewer"]).get(reverse("insights:why"), {"env": "prod"})
    assert page.status_code == 400 and "unknown environment" in page.content.decode()  # bravo has no prod
    other = client_for(tenant_b.users["viewer"]).get(reverse("insights:why")).content.decode()
    assert "ubuntu-2204-base" not in other and "no machine drifts" in other


def test_anonymous_is_sent_to_login(client, fleet):
    assert client.get(reverse("insights:why")).status_code == 302


def test_a_cells_drill_down_links_to_the_same_scopes_why(tenant_a, sites, fleet):
    client = client_for(tenant_a.users["viewer"])
    page = client.get(
        reverse("inventory:asset-list"), {"environment": "prod", "site": "aws-eu", "status": "outdated"}
    ).content.decode()
    assert f'<a class="why-link" href="{reverse("insights:why")}?env=prod&amp;site=aws-eu">' in page
    why = client.get(reverse("insights:why"), {"env": "prod", "site": "aws-eu"}).content.decode()
    assert "#1 Promoted, grace period ended: 12 machines" in why
    compliant = client.get(reverse("inventory:asset-list"), {"status": "compliant"}).content.decode()
    assert "why-link" not in compliant  # nothing drifts in that list: no "Why?"
