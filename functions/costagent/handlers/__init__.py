"""One thin handler module per Lambda. Each parses its input, calls one function, returns JSON.

No powertools Tracer: importing the X-Ray SDK costs ~0.4 s of every cold start (bench/cold_start.py);
Lambda active tracing (set in Terraform) still traces each invocation. Only ReadTrigger uses the
powertools parser package (its EventBridge models); the others validate with pydantic directly, which is
what `parse` does, without loading every built-in event model."""
