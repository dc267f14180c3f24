"""Backtests of placement policies on real spot availability and price traces (issue 6).

Pure and offline: `environment` reproduces the benchmark's tick semantics exactly, `policies` holds the
reference policies and costagent's own (the rules planner through the planner interface), `optimal`
the omniscient limit, `suites` the benchmark variants over `bench/traces`. Not part of the Lambda package.
"""
