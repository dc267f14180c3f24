"""DynamoDB key schemas, defined once in tables.json and shared by code, tests and Terraform."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def table_schemas() -> dict[str, dict[str, Any]]:
    text = resources.files("costagent").joinpath("tables.json").read_text(encoding="utf-8")
    schemas: dict[str, dict[str, Any]] = json.loads(text)
    return schemas


def create_table_arguments(kind: str, table_name: str) -> dict[str, Any]:
    """Arguments for `dynamodb.create_table` (used by the local runner and tests)."""
    schema = table_schemas()[kind]
    key_schema = [{"AttributeName": schema["hash_key"], "KeyType": "HASH"}]
    if "range_key" in schema:
        key_schema.append({"AttributeName": schema["range_key"], "KeyType": "RANGE"})
    return {
        "TableName": table_name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind_} for name, kind_ in schema["attributes"].items()
        ],
        "BillingMode": "PAY_PER_REQUEST",
        **_index_arguments(schema),
    }


def _index_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    indexes = schema.get("indexes", [])
    if not indexes:
        return {}
    return {
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index["name"],
                "KeySchema": [
                    {"AttributeName": index["hash_key"], "KeyType": "HASH"},
                    {"AttributeName": index["range_key"], "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": index["projection"],
                    "NonKeyAttributes": index.get("non_key_attributes", []),
                },
            }
            for index in indexes
        ]
    }
