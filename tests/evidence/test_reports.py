"""PDF and CSV reports: text of the PDFs, the restricted fetcher, portal downloads, stored reports and their mail."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from apps.evidence.models import EvidencePack, Report
from apps.evidence.reports import pdf as pdf_module
from apps.evidence.reports.pdf import FetchRefused, check_url, html_to_pdf, restricted_url_fetcher
from apps.evidence.services import report_deliver, report_generate
from apps.tenancy.models import AuditEvent
from tests.evidence.conftest import pdf_text

pytestmark = pytest.mark.django_db


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_restricted_fetcher_allows_static_files_and_data_uris_only(tmp_path):
    fetcher = restricted_url_fetcher()
    css = settings.BASE_DIR / "static" / "css" / "portal.css"
    with contextlib.closing(fetcher(css.as_uri())) as response:
        assert response.read() == css.read_bytes()
    with contextlib.closing(fetcher("data:text/plain;base64,aGk=")) as response:
        assert response.read() == b"hi"
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    for url in (
        "http://127.0.0.1:9/logo.png",
        "https://example.com/x.css",
        outside.as_uri(),
        "file:///etc/passwd",
        (settings.BASE_DIR / "static" / ".." / "manage.py").as_uri(),
        "file://remote-host/static/css/portal.css",
        "ftp://127.0.0.1/x",
    ):
        with pytest.raises(FetchRefused):
            fetcher(url)


def test_a_report_never_loads_what_the_fetcher_refuses(monkeypatch):
    seen = []

    def recording(url):
        try:
            return check_url(url)
        except FetchRefused:
            seen.append(url)
            raise

    monkeypatch.setattr(pdf_module, "check_url", recording)
    html = (
        '<html><body><p>report body</p><img src="http://127.0.0.1:9/track.png">'
        '<link rel="stylesheet" href="file:///etc/passwd"><img src="data:image/svg+xml;base64,'
        'PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxIiBoZWlnaHQ9IjEiLz4="></body></html>'
    )
    data = html_to_pdf(html)
    assert sorted(seen) == ["file:///etc/passwd", "http://127.0.0.1:9/track.png"]
    assert "report body" in pdf_text(data)


def test_viewer_downloads_the_executive_pdf_with_the_drift_figures(tenant_a, world):
    response = portal(tenant_a.users["viewer"]).get(reverse("evidence:pdf", args=["executive"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Golden image compliance — executive summary" in text
    assert "Overall coverage: 40.0% Red — 4 compliant, 6 outdated, 0 unmanaged of 10 machines" in " ".join(text.split())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "dev 4 4 0 0 0 100.0% Green —" in lines
    assert "prod 6 0 6 0 0 0.0% Red 0" in lines
    assert "ubuntu-2204-base@1.0.0 6 fail (invalid) fail (L1 33.3%)" in lines
    assert "ubuntu-2204-base@1.1.0 4 fail (unsigned) unknown (L1 no results)" in lines
    assert "Signed: fail 2. CIS: fail 1, unknown 1." in lines
    assert "Top outdated sites" in text and "What changed this week" in text
    assert any(line.startswith("• 3 channel changes: ubuntu-2204-base/prod — → 1.0.0;") for line in lines)
    assert "• 2 signature checks, 2 not verified" in lines
    assert "Why: top causes" in text and "Source: deterministic (explain v1)." in lines
    assert "1 Promoted, grace period 6 100.0% 1.0 high Roll the machines of prod to" in lines  # wrapped table cells


def test_detailed_drift_pdf_and_csv_from_the_portal(tenant_a, world):
    client = portal(tenant_a.users["viewer"])
    text = " ".join(pdf_text(client.get(reverse("evidence:pdf", args=["drift"]), {"env": "prod"}).content).split())
    assert "Detailed drift report Alpha · environment prod" in text and "Outdated machines (6)" in text
    assert "Overall coverage: 0.0% Red — 0 compliant, 6 outdated, 0 unmanaged of 6 machines." in text
    assert text.count(" 0 behind") == 6
    response = client.get(reverse("evidence:csv", args=["outdated"]), {"env": "dev"})
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[1:] == []
    bad = client.get(reverse("evidence:csv", args=["drift"]), {"env": "nowhere"})
    assert (bad.status_code, bad.content) == (400, b"env: unknown environment 'nowhere'")
    assert client.get(reverse("evidence:csv", args=["nothing"])).status_code == 404


def test_report_generate_stores_the_file_and_mails_it(tenant_a, world):
    report = report_generate(
        actor=tenant_a.users["operator"], organization=tenant_a.organization, kind="drift-csv", filters={"by": "site"}
    )
    with report.file.open("rb") as fh:
        data = fh.read()
    assert (report.sha256, report.size, report.media_type) == (hashlib.sha256(data).hexdigest(), len(data), "text/csv")
    assert report.file.name == f"reports/alpha/{report.sha256}.csv"
    assert data.decode("utf-8-sig").splitlines()[0].startswith("environment,platform,site,total_assets")
    assert AuditEvent.objects.filter(action="evidence.report.generate", object_id=str(report.pk)).count() == 1
    assert report_deliver(report=report, recipients=["ciso@example.com"]) == 1
    (message,) = mail.outbox
    assert (message.from_email, message.to) == ("reports@localhost", ["ciso@example.com"])
    assert message.attachments == [(report.filename, data.decode(), "text/csv")]
    with pytest.raises(TypeError):
        Report.objects.filter(pk=report.pk).update(size=0)  # append-only


def test_report_generate_refusals_write_nothing(tenant_a, envs):
    with pytest.raises(PermissionDenied):
        report_generate(actor=tenant_a.users["viewer"], organization=tenant_a.organization, kind="drift-csv")
    with pytest.raises(ValidationError) as caught:
        report_generate(actor=None, organization=tenant_a.organization, kind="drift-pdf", filters={"env": "nowhere"})
    assert [e.code for e in caught.value.error_dict["filters/env"]] == ["invalid_parameter"]
    with pytest.raises(ValidationError):
        report_generate(actor=None, organization=tenant_a.organization, kind="poster")
    assert Report.objects.count() == 0


def test_reports_page_lists_and_generates_for_operators_only(tenant_a, tenant_b, world):
    operator, viewer = portal(tenant_a.users["operator"]), portal(tenant_a.users["viewer"])
    assert "Generate evidence pack" not in viewer.get(reverse("evidence:index")).content.decode()
    response = operator.post(reverse("evidence:pack-create"), {"environments": ["prod"], "to": ""})
    assert response.status_code == 302
    pack = EvidencePack.objects.get()
    operator.post(reverse("evidence:generate"), {"kind": "executive-pdf", "env": "prod"})
    report = Report.objects.get()
    page = viewer.get(reverse("evidence:index")).content.decode()
    assert pack.sha256 in page and report.filename in page
    download = viewer.get(reverse("evidence:pack-file", args=[pack.pk]))
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == pack.sha256
    assert viewer.get(reverse("evidence:report-file", args=[report.pk])).status_code == 200
    viewer.post(reverse("evidence:pack-create"), {})
    assert EvidencePack.objects.count() == 1  # a viewer may not generate
    stranger = portal(tenant_b.users["admin"])
    assert stranger.get(reverse("evidence:pack-file", args=[pack.pk])).status_code == 404
    assert stranger.get(reverse("evidence:report-file", args=[report.pk])).status_code == 404
