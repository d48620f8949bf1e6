"""Accord: a cooperative threat-intelligence exchange."""

__version__ = "0.1.0"
