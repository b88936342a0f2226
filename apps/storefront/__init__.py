"""storefront: the shop's operator console; for now, the dead letters and their replay."""
