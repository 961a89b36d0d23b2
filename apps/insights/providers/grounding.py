"""The grounding check: every number, id, version, date and name a model writes must appear in what it was given.

A *checked token* is a word holding a digit, or one of ``@ _ / :``, or an inner hyphen (ami-0abc, web@1.2.0,
2026-03-01, lt-0abc:3, us-east-1, 12, 40.5%). Plain words (the, region, outdated) are free. Numbers compare by value
(12 = 12.0); a date matches any timestamp of the facts on that day. Spelled-out numbers (two … twenty, thirty …
ninety, hundred, thousand, dozen) are checked by value too; "one" is not (it is as often a pronoun).
"""

from __future__ import annotations

import json
import re

TOKEN = re.compile(r"[A-Za-z0-9][\w.@:/+-]*[A-Za-z0-9%]|\d")
NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?%?")
CHECKED = re.compile(r"\d|[@_/:]|\w-\w")
_UNITS = "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen"
_TENS = ["eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
WORDS = {word: value for value, word in enumerate(_UNITS.split(), start=2)}
WORDS.update(zip(_TENS, [18, 19, 20, 30, 40, 50, 60, 70, 80, 90], strict=True))
WORDS.update(hundred=100, thousand=1000, dozen=12)


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
        word = WORDS.get(token.lower())
        if word is not None:
            if str(word) not in allowed:
                return token
            continue
        if not token or not CHECKED.search(token):
            continue
        if not (_normal(token) & allowed):
            return token
    return None
