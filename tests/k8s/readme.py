"""The commands of docs/kubernetes.md, so the tests run them as written."""

import re

from tests.k8s.tools import ROOT


def doc() -> str:
    return (ROOT / "docs" / "kubernetes.md").read_text()


def blocks() -> list[str]:
    """Its shell blocks, in order."""
    return re.findall(r"```sh\n(.*?)```", doc(), re.DOTALL)


def block_with(command: str) -> str:
    """The one block that runs `command`."""
    (found,) = [block for block in blocks() if command in block]
    return found


def commands(prefix: str) -> list[str]:
    """Every command of it that starts with `prefix`, its continuation lines
    joined and its comment left out."""
    joined = (re.sub(r"\\\n\s*", "", block) for block in blocks())
    lines = (line.split("#")[0].strip() for block in joined for line in block.splitlines())
    return [line for line in lines if line.startswith(prefix)]
