"""GatherState Lambda."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from costagent.config import get_settings
from costagent.document import CycleDocument
from costagent.gather import gather_state
from costagent.handlers._runtime import adapters, timed

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    document = CycleDocument.model_validate(event)
    assert document.trigger is not None
    result = gather_state(
        document.trigger,
        aws=adapters(),
        settings=get_settings(),
        holder=document.lease_holder(),
        checkpoint_requested=document.checkpoint_requested(),
    )
    return timed(result, started)
