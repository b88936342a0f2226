"""The one contract between eda-shop's apps: component and topic names, event models."""
