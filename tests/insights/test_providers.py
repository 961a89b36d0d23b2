"""Both providers against local HTTP servers speaking their real wire formats: grounded answers are shown, invented
ones rejected (deterministic text shown, the offending token logged), 429 and timeouts fall back and open the breaker,
and the daily quota ends in a clear "limit reached" state."""

import json
import time

import pytest
from django.urls import reverse
from werkzeug import Response

from apps.insights.models import Insight, InsightProvider
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

GROUNDED = (
    "In alpha env prod 12 of 12 machine(s) drift. The prod channel was promoted to ubuntu-2204-base@1.1.0 "
    "0 day(s) ago and its grace ended, so coverage is 0.0%."
)
INVENTED = "In alpha env prod 13 of 12 machines drift since 2026-01-07."


def openai_reply(text: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1764800000,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366},
    }


def anthropic_reply(text: str) -> dict:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 300, "output_tokens": 40},
    }


@pytest.fixture
def provider(tenant_a, httpserver, monkeypatch):
    monkeypatch.setenv("QLRF_TEST_LLM_KEY", "sk-test-123")

    def make(kind: str, **extra) -> InsightProvider:
        base = httpserver.url_for("/v1") if kind == "openai" else httpserver.url_for("")
        return InsightProvider.objects.create(
            organization=tenant_a.organization,
            enabled=True,
            kind=kind,
            base_url=base.rstrip("/"),
            model=f"{kind}-test-model",
            credential_ref="env:QLRF_TEST_LLM_KEY",
            **extra,
        )

    return make


def explain(tenant, **params) -> dict:
    return client_for(tenant.users["viewer"]).get(reverse("insights"), params).json()


def test_openai_grounded_rephrase_is_shown_with_provenance(tenant_a, fleet, provider, httpserver):
    provider("openai")
    httpserver.expect_oneshot_request("/v1/chat/completions", method="POST").respond_with_json(openai_reply(GROUNDED))
    body = explain(tenant_a, env="prod")
    httpserver.check_assertions()
    request, _ = httpserver.log[0]
    sent = json.loads(request.data)
    assert request.headers["Authorization"] == "Bearer sk-test-123"
    assert sent["model"] == "openai-test-model" and sent["stream"] is False and sent["temperature"] == 0
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert '"kind": "grace_ended"' in sent["messages"][1]["content"]  # the facts go as JSON
    assert "Draft (template explain.v1)" in sent["messages"][1]["content"]
    assert body["narrative"] == GROUNDED and body["deterministic_narrative"] != GROUNDED
    provenance = body["provenance"]
    assert (provenance["kind"], provenance["provider"], provenance["model"]) == ("model", "openai", "openai-test-model")
    assert (provenance["model_status"], provenance["prompt_version"]) == ("accepted", "rephrase.v1")
    assert (provenance["tokens_in"], provenance["tokens_out"]) == (321, 45) and provenance["latency_ms"] >= 0


def test_an_invented_number_is_rejected_and_logged(tenant_a, fleet, provider, httpserver, caplog):
    provider("openai")
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_json(openai_reply(INVENTED))
    body = explain(tenant_a, env="prod")
    assert body["narrative"] == body["deterministic_narrative"]
    assert body["provenance"]["kind"] == "deterministic"
    assert body["provenance"]["model_status"] == "rejected"
    assert body["provenance"]["rejection"] == "not in the facts: 13"
    assert "offending token '13'" in caplog.text


def test_anthropic_messages_wire_format_and_grounded_answer(tenant_a, fleet, provider, httpserver):
    provider("anthropic")
    httpserver.expect_oneshot_request("/v1/messages", method="POST").respond_with_json(anthropic_reply(GROUNDED))
    body = explain(tenant_a, env="prod")
    request, _ = httpserver.log[0]
    sent = json.loads(request.data)
    assert request.headers["Authorization"] == "Bearer sk-test-123"  # how the pinned SDK (2.16.0) sends the key
    assert request.headers["anthropic-version"]
    assert sent["model"] == "anthropic-test-model" and sent["stream"] is False and sent["max_tokens"] == 800
    assert sent["system"].startswith("You rewrite") and [m["role"] for m in sent["messages"]] == ["user"]
    assert body["narrative"] == GROUNDED and body["provenance"]["provider"] == "anthropic"
    assert (body["provenance"]["tokens_in"], body["provenance"]["tokens_out"]) == (300, 40)


def test_anthropic_invented_version_is_rejected(tenant_a, fleet, provider, httpserver):
    provider("anthropic")
    answer = "The prod channel should run ubuntu-2204-base@9.9.9 now."
    httpserver.expect_oneshot_request("/v1/messages").respond_with_json(anthropic_reply(answer))
    body = explain(tenant_a, env="prod")
    assert body["provenance"]["rejection"] == "not in the facts: ubuntu-2204-base@9.9.9"
    assert body["narrative"] == body["deterministic_narrative"]


def test_a_429_falls_back_and_opens_the_breaker(tenant_a, fleet, provider, httpserver, settings):
    settings.QLRF_INSIGHTS_RETRIES = 1
    settings.QLRF_INSIGHTS_BREAKER_FAIL_MAX = 1
    provider("openai")
    error = {"error": {"message": "Rate limit reached", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}
    httpserver.expect_request("/v1/chat/completions").respond_with_json(error, status=429)
    first = explain(tenant_a, env="prod")
    assert len(httpserver.log) == 2  # one retry
    assert first["provenance"]["model_status"] == "unavailable" and "RateLimitError" in first["provenance"]["rejection"]
    assert first["narrative"] == first["deterministic_narrative"]
    second = explain(tenant_a, env="dev")  # another question: the breaker is open, no call is made
    assert len(httpserver.log) == 2
    assert (second["provenance"]["model_status"], second["provenance"]["rejection"]) == ("unavailable", "circuit open")


def test_a_timeout_falls_back_to_the_deterministic_text(tenant_a, fleet, provider, httpserver, settings):
    settings.QLRF_INSIGHTS_TIMEOUT_SECONDS = 1
    settings.QLRF_INSIGHTS_RETRIES = 0
    provider("anthropic")

    def slow(request):
        time.sleep(2)
        return Response(json.dumps(anthropic_reply(GROUNDED)), content_type="application/json")

    httpserver.expect_request("/v1/messages").respond_with_handler(slow)
    started = time.monotonic()
    body = explain(tenant_a, env="prod")
    assert time.monotonic() - started < 5
    assert body["provenance"]["model_status"] == "unavailable" and "Timeout" in body["provenance"]["rejection"]
    assert body["narrative"] == body["deterministic_narrative"]
    deadline = time.monotonic() + 5
    while not httpserver.log and time.monotonic() < deadline:  # let the slow handler finish inside this test
        time.sleep(0.1)


def test_the_same_question_on_the_same_data_calls_the_model_once(tenant_a, fleet, provider, httpserver):
    provider("openai")
    httpserver.expect_request("/v1/chat/completions").respond_with_json(openai_reply(GROUNDED))
    assert explain(tenant_a, env="prod")["id"] == explain(tenant_a, env="prod")["id"]
    assert len(httpserver.log) == 1


def test_the_daily_request_quota_ends_in_limit_reached(tenant_a, fleet, provider, httpserver):
    provider("openai", requests_per_day=1)
    httpserver.expect_request("/v1/chat/completions").respond_with_json(openai_reply(GROUNDED))
    assert explain(tenant_a, env="prod")["provenance"]["model_status"] == "accepted"
    limited = explain(tenant_a, env="dev")
    assert len(httpserver.log) == 1
    assert limited["provenance"]["model_status"] == "limit_reached"
    assert limited["provenance"]["rejection"] == "model requests per day (1) used up"
    assert limited["narrative"] == limited["deterministic_narrative"]


def test_the_daily_token_quota_ends_in_limit_reached(tenant_a, fleet, provider, httpserver):
    provider("openai", tokens_per_day=100)
    httpserver.expect_request("/v1/chat/completions").respond_with_json(openai_reply(GROUNDED))
    explain(tenant_a, env="prod")  # uses 366 tokens: the call completes, the quota is now spent
    limited = explain(tenant_a, env="dev")
    assert limited["provenance"]["rejection"] == "model tokens per day (100) used up" and len(httpserver.log) == 1


def test_without_a_provider_or_disabled_no_call_is_made(tenant_a, fleet, provider, httpserver):
    made = provider("openai")
    InsightProvider.objects.filter(pk=made.pk).update(enabled=False)
    body = explain(tenant_a, env="prod")
    assert body["provenance"]["kind"] == "deterministic" and body["provenance"]["model_status"] == ""
    assert httpserver.log == [] and Insight.objects.count() == 1


def test_a_malformed_provider_answer_falls_back(tenant_a, fleet, provider, httpserver):
    provider("openai")
    httpserver.expect_request("/v1/chat/completions").respond_with_data("<html>proxy</html>", status=200)
    body = explain(tenant_a, env="prod")
    assert body["provenance"]["model_status"] in ("unavailable", "rejected")
    assert body["narrative"] == body["deterministic_narrative"]
