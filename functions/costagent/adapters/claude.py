"""Claude clients: the Anthropic API (key from Secrets Manager in Lambda, ANTHROPIC_API_KEY on a
workstation) or Amazon Bedrock (the Lambda's IAM role, no key). Only the plan Lambda imports this, and
it imports the SDK only when a pipeline plans with Claude."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from costagent.config import LlmSettings
from costagent.errors import CostagentError


class ClaudeNotConfigured(CostagentError):
    """No way to reach Claude: no API key, no secret, not Bedrock."""


def make_claude_client(
    llm: LlmSettings,
    *,
    region: str,
    read_secret: Callable[[str], str] | None = None,
    http_client: Any = None,
) -> Any:
    import anthropic

    if llm.provider == "bedrock":
        return anthropic.AnthropicBedrock(
            aws_region=region, base_url=llm.base_url, max_retries=llm.max_retries, http_client=http_client
        )
    key = llm.api_key.get_secret_value() if llm.api_key is not None else None
    if key is None and llm.secret_id and read_secret is not None:
        key = read_secret(llm.secret_id)
    if not key:
        raise ClaudeNotConfigured(
            "no Anthropic API key: set ANTHROPIC_API_KEY on a workstation, COSTAGENT_ANTHROPIC_SECRET_ID in "
            "Lambda, or COSTAGENT_LLM_PROVIDER=bedrock"
        )
    return anthropic.Anthropic(
        api_key=key, base_url=llm.base_url, max_retries=llm.max_retries, http_client=http_client
    )
