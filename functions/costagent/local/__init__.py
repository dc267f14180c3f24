"""Local stand-ins: costagent's state machine and Lambdas on moto, in process (no account, no network)."""
