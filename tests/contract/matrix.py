"""The quirk matrix: each provider under its sandbox's defaults and under every value of every quirk the
sandbox declares (`sandboxes._quirks.Quirk.alternatives`), one quirk at a time. Nothing is listed here: a
quirk added to a sandbox joins the contract suite by itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.cli.sandboxes import sandbox_class

__all__ = ["Variant", "variants"]


@dataclass(frozen=True)
class Variant:
    """One provider with its sandbox's quirks set so (empty: the defaults)."""

    provider: str
    quirks: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """``factuursturen[count_cap=100]``, ``factuursturen[unknown_id_answers_list]``, ``hydra[defaults]``."""
        setting = ",".join(name if value is True else f"{name}={str(value).lower()}"
                           for name, value in self.quirks.items())
        return f"{self.provider}[{setting or 'defaults'}]"


def variants(providers: Iterable[str]) -> list[Variant]:
    """Every provider's defaults, then each alternative value of each of its sandbox's quirks.

    Raises:
        ConfigError: a provider without a sandbox of the same name.
    """
    found = []
    for provider in providers:
        found.append(Variant(provider))
        for quirk in sandbox_class(provider).declared_quirks:
            found.extend(Variant(provider, {quirk.name: value}) for value in quirk.alternatives)
    return found
