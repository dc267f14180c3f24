"""One thin handler module per Lambda. Each parses its input, calls one function, returns JSON."""
