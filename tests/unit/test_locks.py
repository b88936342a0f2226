"""common.locks: holders of one key take turns; other keys do not wait for them."""

import asyncio

from common.locks import KeyLocks


def test_holders_of_a_key_take_turns_and_other_keys_go_on() -> None:
    locks, seen = KeyLocks(), []

    async def hold(keys: list[str], name: str) -> None:
        async with locks.holding(keys):
            seen.append(f"{name} in")
            await asyncio.sleep(0.05)
            seen.append(f"{name} out")

    async def main() -> None:
        first = asyncio.create_task(hold(["order/1"], "first"))
        await asyncio.sleep(0)  # the first holds order/1 before the others ask
        await asyncio.gather(first, hold(["order/1", "sku/tea"], "second"), hold(["sku/tea"], "other"))

    asyncio.run(main())
    assert seen.index("second in") > seen.index("first out")
    assert seen.index("other in") < seen.index("first out")
