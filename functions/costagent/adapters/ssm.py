"""SSM: the pipeline's mode and guardrails (Parameter Store), and checkpoint requests (Run Command)."""

from __future__ import annotations

from dataclasses import dataclass

from costagent.adapters.aws import LazyClient, aws_call

RUN_SHELL_DOCUMENT = "AWS-RunShellScript"
CHECKPOINT_TIMEOUT_SECONDS = 90  # a spot warning gives two minutes; the command must finish inside it


@dataclass(frozen=True)
class PipelineParameters:
    mode: str | None
    guardrails_json: str | None


class SsmAdapter(LazyClient):
    service = "ssm"

    def pipeline_parameters(self, mode_name: str, guardrails_name: str) -> PipelineParameters:
        with aws_call("ssm:GetParameters"):
            response = self.client.get_parameters(Names=[mode_name, guardrails_name])
        values = {p["Name"]: p["Value"] for p in response.get("Parameters", [])}
        return PipelineParameters(mode=values.get(mode_name), guardrails_json=values.get(guardrails_name))

    def mode(self, mode_name: str) -> str | None:
        with aws_call("ssm:GetParameters"):
            response = self.client.get_parameters(Names=[mode_name])
        found = response.get("Parameters", [])
        return str(found[0]["Value"]) if found else None

    def send_checkpoint(self, instance_ids: list[str], command: str, comment: str) -> str:
        with aws_call("ssm:SendCommand"):
            response = self.client.send_command(
                InstanceIds=instance_ids,
                DocumentName=RUN_SHELL_DOCUMENT,
                Parameters={"commands": [command]},
                Comment=comment[:100],
                TimeoutSeconds=CHECKPOINT_TIMEOUT_SECONDS,
            )
        return str(response["Command"]["CommandId"])
