"""BudgetStop Lambda: an AWS Budget's limit notification (SNS) suspends launches of the pipeline's group."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from costagent.budget_stop import stop_launches
from costagent.config import get_settings
from costagent.handlers._runtime import adapters

logger = Logger()


class SnsMessage(BaseModel):
    topic_arn: str = Field(alias="TopicArn")
    message_id: str = Field(alias="MessageId")
    subject: str | None = Field(default=None, alias="Subject")


class SnsRecord(BaseModel):
    sns: SnsMessage = Field(alias="Sns")


class SnsEvent(BaseModel):
    records: list[SnsRecord] = Field(alias="Records")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    notification = SnsEvent.model_validate(event)
    stopped: list[dict[str, str]] = []
    for record in notification.records:
        result = stop_launches(
            topic_arn=record.sns.topic_arn,
            message_id=record.sns.message_id,
            subject=record.sns.subject or "budget limit reached",
            received_at=datetime.now(timezone.utc),
            aws=adapters(),
            settings=get_settings(),
        )
        if result is None:
            logger.warning("notification from a topic that is not a costagent budget topic; ignored")
            continue
        logger.info(
            "budget limit", extra={"pipeline_id": result.pipeline_id, "outcome": result.outcome.value}
        )
        stopped.append({"pipeline_id": result.pipeline_id, "outcome": result.outcome.value})
    return {"stopped": stopped}
