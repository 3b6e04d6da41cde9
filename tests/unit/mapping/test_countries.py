"""The built-in ISO 3166-1 table and the names services use."""

from __future__ import annotations

import pytest

from connector.mapping.countries import ISO_CODES, country_name, iso_from_name


def test_every_assigned_code_is_there() -> None:
    assert len(ISO_CODES) == 249
    assert all(len(code) == 2 and code.isupper() for code in ISO_CODES)
    assert country_name("nl") == "Netherlands" and country_name("XX") is None


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Netherlands", "NL"),
        ("The Netherlands", "NL"),
        ("Nederland", "NL"),
        ("netherlands ", "NL"),
        ("NL", "NL"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("United Kingdom of Great Britain and Northern Ireland", "GB"),
        ("United States of America", "US"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("US Virgin Islands", "VI"),
        ("Virgin Islands (U.S.)", "VI"),
        ("Korea, Republic of", "KR"),
        ("South Korea", "KR"),
        ("Gambia, The", "GM"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d'Ivoire", "CI"),
        ("St. Lucia", "LC"),
        ("Saint Kitts & Nevis", "KN"),
        ("Curaçao", "CW"),
        ("Åland Islands", "AX"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Czech Republic", "CZ"),
        ("Macedonia, the former Yugoslav Republic of", "MK"),
        ("België", "BE"),
        ("Deutschland", "DE"),
        ("Kosovo", "XK"),
    ],
)
def test_names_and_aliases(name: str, code: str) -> None:
    assert iso_from_name(name) == code


def test_unknown_names() -> None:
    assert iso_from_name("Atlantis") is None
    assert iso_from_name("") is None
