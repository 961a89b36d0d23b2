"""PDF bytes depend only on the inputs and the as-of moment, whichever font subsetter WeasyPrint uses."""

import datetime
import time

import pytest

from apps.evidence.reports.pdf import html_to_pdf

HTML = "<html><head><title>t</title></head><body><p>Coverage 97 % — ünïcode</p><b>outdated 3</b></body></html>"
AS_OF = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def _next_wall_clock_second():
    started = int(time.time())
    while int(time.time()) == started:
        time.sleep(0.05)


@pytest.mark.parametrize("subsetter", ["harfbuzz", "fonttools"])
def test_pdf_is_identical_across_a_second_boundary(subsetter, monkeypatch):
    # fontTools stamps each font subset's head.modified with the wall clock unless SOURCE_DATE_EPOCH is set; WeasyPrint
    # falls back to it where HarfBuzz-Subset is missing, so both paths are exercised here.
    if subsetter == "fonttools":
        from weasyprint.pdf import fonts

        monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    first = html_to_pdf(HTML, as_of=AS_OF)
    _next_wall_clock_second()
    second = html_to_pdf(HTML, as_of=AS_OF)
    assert first == second


def test_source_date_epoch_is_restored_after_rendering(monkeypatch):
    import os

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "123")
    html_to_pdf(HTML, as_of=AS_OF)
    assert os.environ["SOURCE_DATE_EPOCH"] == "123"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    html_to_pdf(HTML, as_of=AS_OF)
    assert "SOURCE_DATE_EPOCH" not in os.environ
