"""The Claude planner: one forced tool call on the Messages API, bounded by the Lambda's deadline.

Every failure (no credentials, too little time, timeout, 429/529/5xx, connection, refusal, text only,
no tool call, malformed or out-of-schema input) returns the rules planner's decision as `fallback`, with
a short reason code; nothing here raises into the state machine. The SDK's temperature parameter no
longer exists in anthropic 2.x; forced tool use with a fixed prompt is what keeps answers stable.
"""

from __future__ import annotations

import time
from typing import Any

from costagent.config import LlmSettings
from costagent.guardrails import Guardrails
from costagent.models import LlmUsage, PipelineState, PlanResult
from costagent.planner.rules import RulesPlanner
from costagent.prompt import (
    PROMPT_VERSION,
    TOOL_NAME,
    UnusableAnswer,
    decision_tool,
    parse_tool_input,
    system_blocks,
    user_message,
)
from costagent.reuse import fingerprint

MIN_CALL_SECONDS = 2.0  # with less time than this left, do not start a call: fall back at once
MIN_ATTEMPT_SECONDS = 1.0  # an attempt shorter than this cannot return a decision
ATTEMPT_SHARE_OF_REMAINING = 0.6  # an attempt that is not the last may use this much of the time left
INITIAL_BACKOFF_SECONDS = 0.5  # pause before the first retry, doubling after each, as the SDK does
MAX_BACKOFF_SECONDS = 8.0
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def attempt_timeout(remaining_seconds: float, attempts_left: int) -> float:
    """How long one attempt may take: most of the time left, all of it for the last attempt."""
    if attempts_left <= 1:
        return remaining_seconds
    return max(remaining_seconds * ATTEMPT_SHARE_OF_REMAINING, MIN_ATTEMPT_SECONDS)


def retry_pause(retry_after_seconds: float | None, attempt: int) -> float:
    """The server's own retry-after when it gives one, else exponential backoff."""
    if retry_after_seconds is not None and retry_after_seconds >= 0:
        return retry_after_seconds
    return min(INITIAL_BACKOFF_SECONDS * 2**attempt, MAX_BACKOFF_SECONDS)


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is not None:
            try:
                return float(raw) / scale
            except ValueError:
                return None
    return None


def _retryable(error: Exception) -> bool:
    import anthropic

    if isinstance(error, anthropic.APIConnectionError):  # includes timeouts
        return True
    return isinstance(error, anthropic.APIStatusError) and error.status_code in RETRYABLE_STATUS


def _failure_code(error: Exception) -> str:
    import anthropic

    if isinstance(error, anthropic.APITimeoutError):
        return "timeout"
    if isinstance(error, anthropic.APIConnectionError):
        return "connection"
    if isinstance(error, anthropic.RateLimitError):
        return "rate_limited"
    if isinstance(error, anthropic.APIStatusError):
        if error.status_code == 529:
            return "overloaded"
        if error.status_code >= 500:
            return "server_error"
        if error.status_code in (401, 403):
            return "auth"
        return f"http_{error.status_code}"
    return "client_error"


class ClaudePlanner:
    """Implements the Planner protocol; `client` is an `anthropic.Anthropic` or `AnthropicBedrock`."""

    def __init__(self, client: Any, *, model: str, provider: str, max_tokens: int, max_retries: int) -> None:
        self.client = client
        self.model = model
        self.provider = provider
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.rules = RulesPlanner()

    @classmethod
    def from_settings(cls, client: Any, llm: LlmSettings) -> ClaudePlanner:
        return cls(
            client,
            model=llm.model_id,
            provider=llm.provider,
            max_tokens=llm.max_tokens,
            max_retries=llm.max_retries,
        )

    def plan(
        self, state: PipelineState, guardrails: Guardrails, deadline_seconds: float = 60.0
    ) -> PlanResult:
        rules = self.rules.plan(state, guardrails)
        action = rules.proposal.get("action") if isinstance(rules.proposal, dict) else None
        facts = fingerprint(
            state, guardrails, model=self.model, prompt_version=PROMPT_VERSION, rules_action=action
        )
        if deadline_seconds < MIN_CALL_SECONDS:
            detail = f"only {deadline_seconds:.1f} s left before the Lambda's deadline"
            return _fallback(rules, "deadline", detail)
        request = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": system_blocks(guardrails),
            "tools": [decision_tool()],
            "tool_choice": {"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
            "messages": [{"role": "user", "content": user_message(state, rules)}],
        }
        started = time.perf_counter()
        try:
            response = self._call(request, deadline_seconds)
        except Exception as error:  # every failure is a fallback, never a failed cycle
            code = _failure_code(error)
            usage = LlmUsage(
                provider=self.provider,
                model=self.model,
                prompt_version=PROMPT_VERSION,
                latency_ms=_ms(started),
            )
            return _fallback(rules, code, f"{type(error).__name__}: {str(error)[:300]}", usage)
        usage = _usage(response, self.provider, self.model, _ms(started))
        try:
            decision = _decision_from(response)
        except UnusableAnswer as unusable:
            return _fallback(rules, unusable.code, str(unusable), usage)
        return PlanResult(
            planner="claude",
            proposal=decision.model_dump(mode="json"),
            signals=rules.signals,
            reason=f"Claude ({self.model}) decided; rules recommended {rules.proposal.get('action')}",
            llm=usage,
            fingerprint=facts,
        )

    def _call(self, request: dict[str, Any], deadline_seconds: float) -> Any:
        """The request with bounded retries, all inside the deadline. The SDK's own retries are off: they
        would wait for any retry-after the server names, however long, past the Lambda's timeout."""
        deadline_at = time.monotonic() + deadline_seconds
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            remaining = deadline_at - time.monotonic()
            client = self.client.with_options(
                timeout=attempt_timeout(remaining, attempts - attempt), max_retries=0
            )
            try:
                return client.messages.create(**request)
            except Exception as error:
                if attempt == attempts - 1 or not _retryable(error):
                    raise
                pause = retry_pause(_retry_after(error), attempt)
                if deadline_at - time.monotonic() - pause < MIN_ATTEMPT_SECONDS:
                    raise  # waiting as asked would leave no time for another attempt
                time.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _decision_from(response: Any) -> Any:
    if getattr(response, "stop_reason", None) == "refusal":
        raise UnusableAnswer("refusal", "Claude declined to answer")
    blocks = list(getattr(response, "content", []) or [])
    calls = [
        b for b in blocks if getattr(b, "type", None) == "tool_use" and getattr(b, "name", None) == TOOL_NAME
    ]
    if not calls:
        texts = [b for b in blocks if getattr(b, "type", None) == "text"]
        code = "text_only" if texts else "no_tool_call"
        return_text = " ".join(getattr(t, "text", "") for t in texts)[:200]
        raise UnusableAnswer(code, f"no {TOOL_NAME} call in the reply ({return_text!r})")
    return parse_tool_input(calls[0].input)


def _usage(response: Any, provider: str, model: str, latency_ms: float) -> LlmUsage:
    raw = getattr(response, "usage", None)

    def count(name: str) -> int:
        value = getattr(raw, name, 0) if raw is not None else 0
        return int(value or 0)

    return LlmUsage(
        provider=provider,
        model=model,
        prompt_version=PROMPT_VERSION,
        latency_ms=latency_ms,
        input_tokens=count("input_tokens"),
        output_tokens=count("output_tokens"),
        cache_read_input_tokens=count("cache_read_input_tokens"),
        cache_creation_input_tokens=count("cache_creation_input_tokens"),
        stop_reason=getattr(response, "stop_reason", None),
    )


def _fallback(rules: PlanResult, code: str, detail: str, usage: LlmUsage | None = None) -> PlanResult:
    return rules.model_copy(
        update={
            "planner": "fallback",
            "fallback_reason": code,
            "reason": f"Claude unusable ({code}: {detail}); the rules planner decided",
            "llm": usage,
        }
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 1)
