"""make soak: orders at half the measured capacity for a long while, and whether any
process's memory keeps growing (run.py: doing it; report.py: the slopes, the table and
the plot)."""
