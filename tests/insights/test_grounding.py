"""The grounding check: every number, id, version, date and name of an answer must be in what the model was given."""

import pytest

from apps.insights.providers.grounding import allowed_tokens, ungrounded

FACTS = {
    "organization": "alpha",
    "totals": {"total": 12, "outdated": 12, "coverage_pct": 0.0},
    "causes": [
        {
            "kind": "template_pinned_old_image",
            "machines": 4,
            "share_pct": 80.0,
            "evidence": {
                "group": "web-asg",
                "template": "lt-0abc:3",
                "template_image": "ami-0100eu",
                "promoted_at": "2026-11-14T09:30:00+00:00",
            },  # fmt: skip
        }
    ],
}
DRAFT = "alpha: 12 of 12 machine(s) drift (coverage 0.0%). web-asg launches from lt-0abc:3."
ALLOWED = allowed_tokens(FACTS, DRAFT)


@pytest.mark.parametrize(
    "answer",
    [
        "Four of the machines (80% of the drift) sit in web-asg, whose template lt-0abc:3 pins ami-0100eu.",
        "Coverage is 0% across 12 machines; the promotion happened on 2026-11-14.",
        "The group web-asg explains 4 machines, that is 80.0 percent.",
        "Nothing else to add.",
    ],
)
def test_a_rephrase_of_the_facts_is_accepted(answer):
    assert ungrounded(answer, ALLOWED) is None


@pytest.mark.parametrize(
    ("answer", "token"),
    [
        ("13 machines drift.", "13"),
        ("Thirteen machines drift.", "Thirteen"),
        ("Coverage is 7.5%.", "7.5%"),
        ("web-asg launches from lt-0abc:4.", "lt-0abc:4"),
        ("It pins ami-0deadbeef.", "ami-0deadbeef"),
        ("Promoted on 2026-11-15.", "2026-11-15"),
        ("Upgrade to web@2.0.0 now.", "web@2.0.0"),
        ("The eu-central-1 region is missing a copy.", "eu-central-1"),
    ],
)
def test_an_invented_number_id_version_date_or_name_is_named(answer, token):
    assert ungrounded(answer, ALLOWED) == token
