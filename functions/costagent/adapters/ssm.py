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
    kill_switch: str | None = None


class SsmAdapter(LazyClient):
    service = "ssm"

    def pipeline_parameters(
        self, mode_name: str, guardrails_name: str, kill_switch_name: str | None = None
    ) -> PipelineParameters:
        """All three in one GetParameters call: every cycle reads them, so a flip needs no deploy."""
        names = [mode_name, guardrails_name] + ([kill_switch_name] if kill_switch_name else [])
        with aws_call("ssm:GetParameters"):
            response = self.client.get_parameters(Names=names)
        values = {p["Name"]: p["Value"] for p in response.get("Parameters", [])}
        return PipelineParameters(
            mode=values.get(mode_name),
            guardrails_json=values.get(guardrails_name),
            kill_switch=values.get(kill_switch_name) if kill_switch_name else None,
        )

    def get_value(self, name: str) -> str | None:
        with aws_call("ssm:GetParameters"):
            response = self.client.get_parameters(Names=[name])
        values = [p["Value"] for p in response.get("Parameters", [])]
        return str(values[0]) if values else None

    def put_value(self, name: str, value: str, description: str) -> None:
        """Overwrite one String parameter (the pipeline's mode is one; costagent promote writes it)."""
        with aws_call("ssm:PutParameter"):
            self.client.put_parameter(
                Name=name, Value=value, Type="String", Overwrite=True, Description=description[:1000]
            )

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
