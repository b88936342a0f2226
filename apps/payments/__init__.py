"""payments: charges customers for reserved orders through a simulated gateway."""
