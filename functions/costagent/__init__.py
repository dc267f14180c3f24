"""costagent: keep long-running pipelines on EC2 spot cheap and alive."""

__version__ = "0.1.0"
