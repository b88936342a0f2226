from common.settings import DaprSettings


class Settings(DaprSettings):
    """The storefront needs nothing beyond its sidecar's address."""
