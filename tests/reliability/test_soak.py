"""make soak, small: half a minute at half the measured capacity; every order must end,
and the report must be written with its table and its plot. How fast memory grew is
measured, never asserted: half a minute says nothing about an hour."""

from pathlib import Path
from xml.etree import ElementTree

from tests.support.soak.__main__ import main
from tests.support.soak.report import REDIS
from tests.support.system import APP_IDS


def test_a_short_soak_ends_every_order_and_writes_its_table_and_plot(tmp_path: Path) -> None:
    assert main(["--minutes", "0.5", "--every", "2", "--burst", "100", "--out", str(tmp_path)]) == 0

    text = (tmp_path / "latest.md").read_text()
    assert "unfinished" not in text and "The run failed" not in text
    for process in [*APP_IDS, *(f"{app_id}-daprd" for app_id in APP_IDS), REDIS]:
        assert f"\n| {process} | " in text
    assert "| minute | Redis used (MB) |" in text and "![the soak over time](latest.svg)" in text
    svg = ElementTree.parse(tmp_path / "latest.svg").getroot()
    assert len(svg.findall("{http://www.w3.org/2000/svg}polyline")) > len(APP_IDS) * 2
