"""orders: takes order commands and keeps each order's state through the saga."""
