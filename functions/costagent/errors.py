"""The project's own exceptions. Adapters translate botocore errors into these; nothing above them
matches AWS error strings. Handlers let them propagate: the class name becomes the Step Functions
error name, which the state machine's Catch blocks route on."""

from __future__ import annotations


class CostagentError(Exception):
    """Base of every error costagent raises on purpose."""


class PipelineNotConfigured(CostagentError):
    """The pipeline has no (valid) guardrails or mode parameter."""


class AwsUnavailable(CostagentError):
    """An AWS API kept failing (throttling, 5xx) after the client's retries."""


class AwsRequestRejected(CostagentError):
    """AWS refused a request (permissions, validation); retrying will not help."""


class ExecutionFailed(CostagentError):
    """An action failed part-way; the message is JSON listing what ran and what did not."""


class AuditWriteFailed(CostagentError):
    """The audit record could not be written."""
