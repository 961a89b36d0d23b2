"""The grounding check: every number, id, version, date and name a model writes must appear in what it was given.

A *checked token* is a word holding a digit, or one of ``@ _ / :``, or an inner hyphen (ami-0abc, web@1.2.0,
2026-03-01, lt-0abc:3, us-east-1, 12, 40.5%). Plain words (the, region, outdated) are free. Numbers compare by value
(12 = 12.0); a date matches any timestamp of the facts on that day.
"""

from __future__ import annotations

import json
import re

TOKEN = re.compile(r"[A-Za-z0-9][\w.@:/+-]*[A-Za-z0-9%]|\d")
NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?%?")
CHECKED = re.compile(r"\d|[@_/:]|\w-\w")


def _normal(token: str) -> set[str]:
    token = token.strip(".,;:()[]'\"").lower()
    forms = {token}
    if NUMBER.fullmatch(token):
        value = float(token.rstrip("%").replace(",", "."))
        forms |= {repr(value), str(int(value)) if value.is_integer() else repr(value)}
    match = re.match(r"(\d{4}-\d{2}-\d{2})t", token)
    if match:
        forms.add(match.group(1))
    return forms


def allowed_tokens(*sources) -> set[str]:
    """Every token of the sources (JSON-able data or text), in all its normal forms."""
    text = " ".join(s if isinstance(s, str) else json.dumps(s, default=str) for s in sources)
    allowed: set[str] = set()
    for token in TOKEN.findall(text.replace('"', " ").replace(",", " , ")):
        allowed |= _normal(token)
        for part in re.split(r"[\s,@]", token):
            if part:
                allowed |= _normal(part)
    return allowed


def ungrounded(answer: str, allowed: set[str]) -> str | None:
    """The first checked token of ``answer`` not in ``allowed``, or None when every one is grounded."""
    for token in TOKEN.findall(answer):
        token = token.strip(".,;:()[]'\"")
        if not token or not CHECKED.search(token):
            continue
        if not (_normal(token) & allowed):
            return token
    return None
