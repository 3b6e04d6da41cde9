"""The e164_phone transform: national and international spellings to E.164 with the record's country, refusals
with their reasons, and a mapping field that reads another field of the record (`country_field`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.domain import CanonicalClient
from connector.errors import MappingError, MappingSpecError
from connector.mapping import BoundMapper, get_transform, load_mapping
from connector.mapping.phones import PLANS
from connector.mapping.registry import Outbound
from tests.unit.mapping.conftest import MAPPINGS, write_yaml

EU_EEA = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI",
          "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}


def _outbound(**params: Any) -> Outbound:
    transform = get_transform("e164_phone")
    out = transform.build(transform.resolve_params(params), {})[1]
    assert out is not None
    return out


@pytest.fixture(scope="module")
def ff() -> BoundMapper:
    """The shipped FastFaktura mapping."""
    return load_mapping("fastfaktura", MAPPINGS).bind({})


@pytest.mark.parametrize(
    ("phone", "country", "e164"),
    [
        ("020 123 4567", "NL", "+31201234567"),  # landline, trunk prefix 0 dropped
        ("06 36097402", "NL", "+31636097402"),  # mobile
        ("06-3609.7402", "nl", "+31636097402"),  # dashes, dots; the code in lower case
        ("02 123 45 67", "BE", "+3221234567"),
        ("0471 23 45 67", "BE", "+32471234567"),
        ("030 1234567", "DE", "+49301234567"),
        ("(0211) 123/456", "DE", "+49211123456"),  # parentheses, a slash
        ("06 1234 5678", "IT", "+390612345678"),  # Italy has no trunk prefix: the 0 stays
        ("347 123 4567", "IT", "+393471234567"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("(212) 555-0100", "US", "+12125550100"),  # NANP without its trunk prefix 1
        ("1 212 555 0100", "US", "+12125550100"),  # and with it
        ("416 555 0199", "CA", "+14165550199"),
        ("011 31 20 123 4567", "US", "+31201234567"),  # NANP international prefix
        ("06 1 234 5678", "HU", "+3612345678"),  # trunk prefix 06
        ("912 345 678", "ES", "+34912345678"),
        ("0 612 34567", "LT", "+37061234567"),  # Lithuania's trunk prefix 0 (since 2024)
        ("8 612 34567", "LT", "+37061234567"),  # and the 8 of before
        ("+31 20 123 4567", "NL", "+31201234567"),  # already international: the country is not needed
        ("+31 20 123 4567", "BE", "+31201234567"),
        ("+31 20 123 4567", None, "+31201234567"),
        ("+31 (0)20 123 4567", None, "+31201234567"),  # (0): the trunk prefix, never dialled from abroad
        ("0031 20 123 4567", None, "+31201234567"),  # 00 -> +
        ("0031 (0)6 36097402", "DE", "+31636097402"),
        ("  +4791234567 ", "NO", "+4791234567"),
        ("+31\u00a020\u00a01234567", None, "+31201234567"),  # no-break spaces from a copy and paste
        ("+123456789012345", None, "+123456789012345"),  # 15 digits: the most E.164 allows
    ],
)
def test_written_in_e164(phone: str, country: str | None, e164: str) -> None:
    assert _outbound()((phone, country)) == e164


@pytest.mark.parametrize(
    ("phone", "country", "reason"),
    [
        ("020 123 4567", None, "it is a national number and the record has no country to read it in"),
        ("020 123 4567", "", "it is a national number and the record has no country to read it in"),
        ("03-1234-5678", "JP", "no calling code known for country 'JP'"),
        ("20 123 4567", "NL", "it is not international (+ or 00) and a national number in NL starts with 0"),
        ("020 BEL ME", "NL", "it contains letters ('BELME')"),
        ("020 123 4567 ext 12", "NL", "it contains letters ('ext')"),
        ("020 123 4567 #12", "NL", "it contains '#'"),
        ("+31 20 + 123", None, "it contains '+'"),
        ("--", "NL", "it has no digits"),
        ("+1234567890123456", None, "too long: 16 digits, E.164 allows at most 15"),
        ("0031 20 123 4567 8901 234", "NL", "too long: 18 digits, E.164 allows at most 15"),
        ("020 12", "NL", "too short: 6 digits with the country code, at least 7"),
        ("0", "NL", "too short: 2 digits with the country code, at least 7"),
        ("+0 20 123 4567", None, "a country code never starts with 0"),
        ("212 555 010", "US", "a national number in US has 10 digits, not 9"),
        ("012 555 0100", "US", "a national number in US does not start with 0"),
        ("80012345", "LT", "a national number in LT has 8 digits, not 7"),  # the 8 is not a trunk prefix here
    ],
)
def test_refused_with_the_reason(phone: str, country: str | None, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        _outbound()((phone, country))
    assert str(caught.value) == f"{phone!r} cannot be written in E.164: {reason}"


def test_no_phone_stays_none() -> None:
    out = _outbound()
    assert out((None, "NL")) is None
    assert out(("  ", None)) is None


def test_the_table_covers_eu_eea_gb_ch_and_nanp() -> None:
    assert {*EU_EEA, "GB", "CH", "US", "CA"} <= set(PLANS)
    assert all(plan.code.isdigit() and plan.code[0] != "0" for plan in PLANS.values())


def test_fastfaktura_pushes_e164_from_the_clients_country(ff: BoundMapper) -> None:
    client = CanonicalClient(remote_id="", name="Bakkerij De Korf", phone="020 123 4567", country="NL")
    assert ff.outbound("client", client)["phone"] == "+31201234567"
    assert ff.outbound("client", CanonicalClient(remote_id="", name="Zonder telefoon"))["phone"] is None


def test_fastfaktura_refuses_with_a_mapping_error_on_the_phone_field(ff: BoundMapper) -> None:
    client = CanonicalClient(remote_id="", name="Bakkerij De Korf", phone="020 123 4567", country=None)
    with pytest.raises(MappingError) as caught:
        ff.outbound("client", client)
    assert (caught.value.entity, caught.value.field) == ("client", "phone")
    assert "no country to read it in" in caught.value.problem


def test_fastfaktura_reads_the_phone_as_it_comes(ff: BoundMapper) -> None:
    raw = {"id": "c1", "name": "Fjord AS", "phone": " +4791234567 ", "country": "NO", "tags": []}
    assert ff.inbound("client", raw).phone == "+4791234567"
    assert ff.inbound("client", {**raw, "phone": "0047 912"}).phone == "0047 912"  # never refused on the way in
    assert ff.inbound("client", {**raw, "phone": None}).phone is None


def test_a_read_back_maps_out_to_what_was_written(ff: BoundMapper) -> None:
    """The echo check compares the written image with the image of the record read back (merge.is_own_write)."""
    written = ff.outbound("client", CanonicalClient(remote_id="", name="A", phone="06 36097402", country="NL"))
    read_back = ff.inbound("client", {"id": "c1", **written, "tags": []})
    assert ff.outbound("client", read_back) == written


CLIENT_SPEC = """\
provider: acme
client:
  fields:
    remote_id: {{ from: id, readonly: true }}
    name:      {{ from: name }}
    city:      {{ from: city }}
    phone:     {{ from: tel, transform: {transform} }}
"""


def test_country_field_names_the_field_read(tmp_path: Path) -> None:
    transform = "{ name: e164_phone, country_field: city }"  # any canonical field: here a code kept in `city`
    write_yaml(tmp_path, "acme", CLIENT_SPEC.format(transform=transform))
    acme = load_mapping("acme", tmp_path).bind({})
    client = CanonicalClient(remote_id="", name="A", phone="030 1234567", city="DE", country="NL")
    assert acme.outbound("client", client)["tel"] == "+49301234567"


@pytest.mark.parametrize(
    ("transform", "problem"),
    [
        (
            "{ name: e164_phone, country_field: land }",
            "transform 'e164_phone' reads field 'land', which CanonicalClient does not have; valid fields: ",
        ),
        (
            "{ name: e164_phone, country_field: 2 }",
            "transform 'e164_phone' parameter 'country_field': expected the name of a canonical field, got 2",
        ),
    ],
)
def test_a_country_field_that_is_not_a_field_is_refused_at_load(tmp_path: Path, transform: str, problem: str) -> None:
    path = write_yaml(tmp_path, "acme", CLIENT_SPEC.format(transform=transform))
    with pytest.raises(MappingSpecError) as caught:
        load_mapping("acme", tmp_path)
    assert (caught.value.file, caught.value.entity, caught.value.field) == (str(path), "client", "phone")
    assert problem in caught.value.problem
