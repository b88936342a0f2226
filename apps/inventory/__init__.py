"""inventory: keeps stock levels and reserves stock for orders, all or nothing."""
