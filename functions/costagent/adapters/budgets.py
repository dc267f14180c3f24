"""AWS Budgets: how much of the pipeline's budget is left."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from costagent.adapters.aws import LazyClient, aws_call, error_code, make_client


class BudgetsAdapter(LazyClient):
    service = "budgets"

    def __init__(self, region: str, client: Any = None, sts_client: Any = None) -> None:
        super().__init__(region, client)
        self._sts = sts_client
        self._account_id: str | None = None

    def _account(self) -> str:
        if self._account_id is None:
            sts = self._sts or make_client("sts", self._region)
            with aws_call("sts:GetCallerIdentity"):
                self._account_id = str(sts.get_caller_identity()["Account"])
        return self._account_id

    def remaining_usd(self, budget_name: str) -> float | None:
        """Limit minus actual spend; None when the pipeline has no budget of that name."""
        account = self._account()
        with aws_call("budgets:DescribeBudget"):
            try:
                budget = self.client.describe_budget(AccountId=account, BudgetName=budget_name)["Budget"]
            except ClientError as error:
                if error_code(error) == "NotFoundException":
                    return None
                raise
        limit = float(budget["BudgetLimit"]["Amount"])
        spent = float(budget.get("CalculatedSpend", {}).get("ActualSpend", {}).get("Amount", 0))
        return round(limit - spent, 4)
