"""Read `/metrics` the way Prometheus would: over HTTP, parsed by prometheus-client's own parser."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

NON_VALUE_LABELS = frozenset({"le", "quantile"})  # bucket bounds, not data


@dataclass(frozen=True)
class Scrape:
    """One parsed scrape."""

    text: str
    samples: tuple[Sample, ...]

    @classmethod
    def get(cls, base_url: str) -> Scrape:
        """GET `/metrics` and parse it; fails the test on anything but a 200 in the text format."""
        response = httpx.get(f"{base_url}/metrics", timeout=10)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain"), response.headers["content-type"]
        samples = [s for family in text_string_to_metric_families(response.text) for s in family.samples]
        return cls(response.text, tuple(samples))

    def value(self, name: str, **labels: str) -> float:
        """Sum of the samples called `name` whose labels include `labels` (0 when none)."""
        return sum(s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items())

    def has(self, name: str, **labels: str) -> bool:
        """True when a sample called `name` with these labels exists."""
        return any(s.name == name and labels.items() <= s.labels.items() for s in self.samples)

    def label_values(self, name: str, label: str) -> set[str]:
        """Every value `label` takes on the samples called `name`."""
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}

    def all_label_values(self) -> set[str]:
        """Every label value of every sample (bucket bounds excepted)."""
        return {v for s in self.samples for k, v in s.labels.items() if k not in NON_VALUE_LABELS}
