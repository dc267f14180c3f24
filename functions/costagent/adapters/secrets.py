"""Secrets Manager: the Anthropic API key. Read once per cold start by the caller; never logged."""

from __future__ import annotations

from costagent.adapters.aws import LazyClient, aws_call


class SecretsAdapter(LazyClient):
    service = "secretsmanager"

    def read(self, secret_id: str) -> str:
        with aws_call(f"secretsmanager:GetSecretValue {secret_id}"):
            response = self.client.get_secret_value(SecretId=secret_id)
        return str(response.get("SecretString") or "").strip()
