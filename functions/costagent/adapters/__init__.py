"""One small adapter per outside system. Each takes its client in the constructor (or creates it lazily
on first use, never at import time) and turns botocore errors into costagent's own exceptions."""
