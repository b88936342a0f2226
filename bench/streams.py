"""What the broker holds: Redis's memory, each stream's length, and how far behind each
subscriber is. `make load` and `make soak` report it; the bench watches the backlog
through an overload."""

from dataclasses import dataclass

import redis
import yaml

from bench.infra import ROOT


@dataclass(frozen=True)
class Streams:
    """What Redis holds: its memory, each stream's length, and how far behind each
    subscriber is (its consumer group's events not yet delivered or not yet acknowledged)."""

    used_memory: int  # bytes
    lengths: dict[str, int]  # stream -> entries it keeps
    backlogs: dict[str, int]  # "group on stream" -> events the group has yet to handle
    retention: int  # the entries a stream keeps (maxLenApprox)

    @classmethod
    def read(cls, client: redis.Redis, retention: int) -> "Streams":
        lengths, backlogs = {}, {}
        # A thousand keys a call: a Redis holding every order would take thousands of calls.
        for stream in client.scan_iter(_type="stream", count=1000):
            lengths[stream] = client.xlen(stream)
            for group in client.xinfo_groups(stream):
                # Redis cannot always count what a group has not read (no lag): at worst, all.
                unread = lengths[stream] if group["lag"] is None else group["lag"]
                backlogs[f"{group['name']} on {stream}"] = unread + group["pending"]
        return cls(client.info("memory")["used_memory"], lengths, backlogs, retention)

    def summary(self) -> str:
        longest = max(self.lengths.items(), key=lambda item: item[1], default=("-", 0))
        behind = max(self.backlogs.items(), key=lambda item: item[1], default=("-", 0))
        lines = [
            f"redis         {self.used_memory / 2**20:>7,.1f} MB used",
            f"streams       {longest[1]:>7,}   entries in the longest ({longest[0]}); each keeps {self.retention:,}",
            f"backlog       {behind[1]:>7,}   events the furthest-behind subscriber has yet to handle ({behind[0]})",
        ]
        if behind[1] > self.retention // 2:
            lines.append(f"ALARM         {behind[0]} is past half of the {self.retention:,} events a stream "
                         "keeps: beyond that, the oldest it has not handled are lost")
        return "\n".join(lines)


def retention() -> int:
    """The entries each stream keeps: `maxLenApprox` of components/pubsub.yaml."""
    component = yaml.safe_load((ROOT / "components" / "pubsub.yaml").read_text())
    (value,) = [item["value"] for item in component["spec"]["metadata"] if item["name"] == "maxLenApprox"]
    return int(value)
