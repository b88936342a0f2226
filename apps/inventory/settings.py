from pathlib import Path

from common.settings import DaprSettings


class Settings(DaprSettings):
    # The stock the shop starts with, loaded once: SKU -> units available.
    catalogue_path: Path = Path(__file__).with_name("catalogue.json")
