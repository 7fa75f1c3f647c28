"""catalog: an always-current registry of OpenRouter's free models."""

__version__ = "0.1.0"
