"""The storefront page in a real browser (Debian's headless Chromium, driven by
Playwright) against the whole running system: what a person sees and does."""

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from contracts.names import Topic
from tests.integration.flows import place_order, publish, settled
from tests.support.sidecars import require_tool
from tests.support.system import OPERATOR_TOKEN, System
from tests.support.waiting import wait_until

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "storefront.png"
# As the machine's probe ran it: no background traffic to hosts this network cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SAGA_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium", "make test (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, system: System) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1100, "height": 1300})
    page.goto(system["storefront"].url)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#products tbody tr")).not_to_have_count(0, timeout=15_000)
    yield page
    page.close()


def place_with_the_keyboard(page: Page, customer_id: str, sku: str, quantity: int) -> None:
    """Fill the order form and send it with the keyboard alone, as a person could."""
    page.locator("input[name=customer_id]").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(customer_id)
    page.keyboard.press("Tab")  # to the product
    page.locator("select[name=sku]").select_option(sku)
    page.keyboard.press("Tab")  # to the quantity
    page.keyboard.press("Control+A")
    page.keyboard.type(str(quantity))
    page.keyboard.press("Enter")


def test_an_order_placed_on_the_page_is_seen_to_reach_shipped_event_by_event(page: Page, system: System) -> None:
    place_with_the_keyboard(page, f"c-{uuid4().hex[:6]}", "tea-sencha", 2)
    someone_elses = place_order(system, ("tea-sencha", 1))

    order = page.locator("#orders > li").first
    expect(order.locator(".status")).to_have_attribute("data-status", "shipped", timeout=SAGA_TIMEOUT_MS)
    for fact in ("order.placed", "stock.reserved", "payment.succeeded", "shipment.scheduled"):
        expect(order.locator(f".timeline li[data-type='{fact}']")).to_have_count(1)
    assert settled(system, someone_elses)["status"] == "shipped"
    expect(page.locator("#orders > li")).to_have_count(1)  # the page shows its own orders only
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_a_declined_order_is_seen_cancelled_with_its_reason(page: Page) -> None:
    place_with_the_keyboard(page, f"blocked-{uuid4().hex[:6]}", "mug-stoneware", 1)

    order = page.locator("#orders > li").first
    expect(order.locator(".status")).to_have_attribute("data-status", "cancelled", timeout=SAGA_TIMEOUT_MS)
    expect(order.locator(".reason")).to_have_text("because: payment_declined")
    expect(order.locator(".timeline li[data-type='stock.released']")).to_have_count(1)


def test_a_bad_order_is_refused_in_words(page: Page) -> None:
    # The form stops a customer id at 64 characters; past the form, the shop refuses it too.
    page.locator("input[name=customer_id]").evaluate("input => input.removeAttribute('maxlength')")
    place_with_the_keyboard(page, "x" * 65, "tea-sencha", 1)

    expect(page.locator("#order-error")).to_contain_text("customer_id: String should have at most 64 characters")


def open_the_console(page: Page, token: str) -> None:
    page.locator("input[name=token]").focus()
    page.keyboard.type(token)
    page.keyboard.press("Enter")


def test_a_dead_letter_is_replayed_from_the_operator_console_once_the_token_is_given(
    page: Page, system: System
) -> None:
    poison_id = f"poison-{uuid4().hex}"
    publish(system, Topic.PAYMENTS, {"order_id": "o-1", "amount_cents": "lots"}, "payment.failed", poison_id)
    expect(page.locator("#dead-letters")).to_be_hidden()

    open_the_console(page, "x" * 64)
    expect(page.locator("#dead-message")).to_have_text("Could not load the dead letters: that is not the operator token.")
    expect(page.locator("#dead-letters")).to_be_hidden()
    open_the_console(page, OPERATOR_TOKEN)
    expect(page.locator("#dead-letters")).to_be_visible()
    expect(page.locator("#dead-message")).to_be_empty()

    row = page.locator(f"#dead-letters tr[data-id='{poison_id}']")

    def arrived() -> bool:  # the operator presses Refresh until it is there
        with page.expect_response(lambda response: response.url.endswith("/deadletters")):
            page.locator("#refresh-dead").press("Enter")
        return row.count() == 1

    wait_until(arrived, timeout=10, every=0.2)
    # A click, not a key: a refresh that redraws the table takes the focus from the button.
    row.get_by_role("button").click()

    expect(page.locator("#dead-message")).to_have_text(f"Replayed {poison_id} to payments.")
    expect(row.locator(".replays")).to_have_text("1")
