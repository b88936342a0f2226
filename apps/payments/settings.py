from pydantic import Field

from common.settings import DaprSettings


class Settings(DaprSettings):
    # The simulated gateway's rules (decisions.py): charges above this many cents are
    # declined for good, and this share of orders fails once with a transient error.
    decline_over_cents: int = Field(default=50_000, ge=0)
    transient_failure_percent: int = Field(default=0, ge=0, le=100)
