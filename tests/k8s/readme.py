"""The commands of the README's "Kubernetes" section, so the tests run them as written."""

import re

from tests.k8s.tools import ROOT


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Kubernetes\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


def blocks() -> list[str]:
    """The section's shell blocks, in order."""
    return re.findall(r"```sh\n(.*?)```", section(), re.DOTALL)


def block_with(command: str) -> str:
    """The one block that runs `command`."""
    (found,) = [block for block in blocks() if command in block]
    return found


def commands(prefix: str) -> list[str]:
    """Every command of the section that starts with `prefix`, its continuation lines
    joined and its comment left out."""
    joined = (re.sub(r"\\\n\s*", "", block) for block in blocks())
    lines = (line.split("#")[0].strip() for block in joined for line in block.splitlines())
    return [line for line in lines if line.startswith(prefix)]
