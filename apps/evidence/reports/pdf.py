"""PDF rendering with WeasyPrint from ``templates/reports/``, deterministic and with a restricted URL fetcher.

The fetcher serves only files under the project's ``static/`` directories and ``data:`` URIs; any other URL (http,
other files) raises ``FetchRefused`` — WeasyPrint then leaves the resource out with a warning, so a report can never
reach the network or read files outside ``static/``. Creation and modification dates are pinned to the report's
as-of moment, so the same inputs give the same bytes.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string


class FetchRefused(ValueError):
    """A report tried to load a resource outside ``static/`` and ``data:`` URIs."""


def _static_roots() -> list[Path]:
    return [Path(root).resolve() for root in getattr(settings, "STATICFILES_DIRS", [])]


def check_url(url: str) -> str:
    """The URL to load when a report may (``data:``, or a file inside a static directory); else FetchRefused."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return url
    if parts.scheme == "file" and not parts.netloc:
        path = Path(unquote(parts.path)).resolve()
        if any(path.is_relative_to(root) for root in _static_roots()) and path.is_file():
            return path.as_uri()
    raise FetchRefused(f"report resources are limited to static/ files and data: URIs; refused {url[:200]!r}")


def _fetcher_class():
    from weasyprint.urls import URLFetcher

    class RestrictedURLFetcher(URLFetcher):
        """WeasyPrint's fetcher limited to ``file`` and ``data`` URLs that ``check_url`` accepts; no redirects."""

        def __init__(self, **kwargs):
            super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, **kwargs)

        def fetch(self, url, headers=None):
            return super().fetch(check_url(url), headers)

    return RestrictedURLFetcher


def restricted_url_fetcher():
    """A new restricted fetcher (a ``weasyprint.urls.URLFetcher``)."""
    return _fetcher_class()()


def base_url() -> str:
    """Relative URLs in report templates resolve against the first static directory."""
    roots = _static_roots()
    return roots[0].as_uri() + "/" if roots else "file:///nonexistent/"


def pdf_timestamp(moment: datetime.datetime) -> str:
    """The as-of moment as the W3C date WeasyPrint writes into /CreationDate and /ModDate."""
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def render_html(template: str, context: dict, *, as_of: datetime.datetime) -> str:
    return render_to_string(template, {**context, "pdf_timestamp": pdf_timestamp(as_of)})


_EPOCH_LOCK = threading.Lock()


@contextlib.contextmanager
def source_date_epoch(moment: datetime.datetime | None):
    """Pin ``SOURCE_DATE_EPOCH`` to ``moment`` while a PDF is written.

    fontTools stamps every font subset WeasyPrint embeds with ``head.modified``: the wall clock unless
    ``SOURCE_DATE_EPOCH`` is set (the reproducible-builds convention). The variable is process-wide, so writers hold
    a lock while it is pinned and the previous value is restored afterwards.
    """
    if moment is None:
        yield
        return
    with _EPOCH_LOCK:
        previous = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = previous


def html_to_pdf(html: str, *, as_of: datetime.datetime | None = None) -> bytes:
    """HTML → PDF bytes through the restricted fetcher (no external resource is ever loaded).

    With ``as_of``, every embedded timestamp (metadata and font subsets) is that moment, so the bytes depend only on
    the inputs.
    """
    from weasyprint import HTML

    with source_date_epoch(as_of):
        return HTML(string=html, base_url=base_url(), url_fetcher=restricted_url_fetcher()).write_pdf()


def render_pdf(template: str, context: dict, *, as_of: datetime.datetime) -> bytes:
    """Render ``template`` with ``context`` to PDF; metadata dates and font subsets pinned to ``as_of``."""
    return html_to_pdf(render_html(template, context, as_of=as_of), as_of=as_of)
