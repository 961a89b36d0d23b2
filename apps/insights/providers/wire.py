"""The two wire formats, through their official SDKs: OpenAI-compatible Chat Completions and Anthropic Messages.

Streaming is off (temperature 0 where the API takes one), the SDKs' own retries off (``tenacity`` retries in
``guard``), a bounded timeout.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    text: str
    tokens_in: int | None
    tokens_out: int | None


def call_openai(*, base_url: str, api_key: str, model: str, system: str, user: str, max_tokens: int,
                timeout: float) -> Answer:  # fmt: skip
    import openai

    client = openai.OpenAI(base_url=base_url or None, api_key=api_key or "none", timeout=timeout, max_retries=0)
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        max_tokens=max_tokens,
        temperature=0,
        stream=False,
    )
    usage = reply.usage
    text = reply.choices[0].message.content or "" if reply.choices else ""
    return Answer(text, usage.prompt_tokens if usage else None, usage.completion_tokens if usage else None)


def call_anthropic(*, base_url: str, api_key: str, model: str, system: str, user: str, max_tokens: int,
                   timeout: float) -> Answer:  # fmt: skip
    import anthropic

    client = anthropic.Anthropic(base_url=base_url or None, api_key=api_key or "none", timeout=timeout, max_retries=0)
    reply = client.messages.create(
        model=model,
        system=system,
        messages=[{"role": "user", "content": user}],
        max_tokens=max_tokens,
        stream=False,
    )  # this SDK's Messages API takes no temperature: the grounding check does not depend on one
    text = "".join(block.text for block in reply.content if getattr(block, "type", "") == "text")
    usage = reply.usage
    return Answer(text, usage.input_tokens if usage else None, usage.output_tokens if usage else None)


CALLS = {"openai": call_openai, "anthropic": call_anthropic}


def transient_errors() -> tuple[type[BaseException], ...]:
    """Errors worth a retry: timeouts, connection failures, 429 and 5xx, of both SDKs."""
    import anthropic
    import openai

    return (
        openai.APITimeoutError,
        openai.APIConnectionError,
        openai.RateLimitError,
        openai.InternalServerError,
        anthropic.APITimeoutError,
        anthropic.APIConnectionError,
        anthropic.RateLimitError,
        anthropic.InternalServerError,
    )
