"""Helpers every Python app of eda-shop shares: logging, event delivery, the Dapr client."""
