"""has-assistant: grounded answers from HAS publications on digital tools and AI in care."""

__version__ = "0.1.0"
