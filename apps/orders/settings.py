from common.settings import DaprSettings


class Settings(DaprSettings):
    """The orders app needs nothing beyond its sidecar's address."""
