"""Observation mode as a product: the audit trail read back as reports, replays and a promotion gate.

Pure parts (`trail` parsing, `report`, `gate`, `replay` comparison) take records and time as arguments;
`operator` does the AWS calls of `costagent export | promote | signoff`, and `cli` wires the commands.
"""
