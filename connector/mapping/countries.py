"""ISO 3166-1 alpha-2 codes by English name, with common aliases, for services that send country names."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ISO_CODES", "country_name", "iso_from_name", "normalise_name"]

# Every officially assigned ISO 3166-1 alpha-2 code with its ISO English short name (249 entries).
_ISO = """
AD Andorra|AE United Arab Emirates|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla|AL Albania|AM Armenia
AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria|AU Australia|AW Aruba|AX Åland Islands
AZ Azerbaijan|BA Bosnia and Herzegovina|BB Barbados|BD Bangladesh|BE Belgium|BF Burkina Faso|BG Bulgaria
BH Bahrain|BI Burundi|BJ Benin|BL Saint Barthélemy|BM Bermuda|BN Brunei Darussalam
BO Bolivia, Plurinational State of|BQ Bonaire, Sint Eustatius and Saba|BR Brazil|BS Bahamas|BT Bhutan
BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|CA Canada|CC Cocos (Keeling) Islands
CD Congo, Democratic Republic of the|CF Central African Republic|CG Congo|CH Switzerland|CI Côte d'Ivoire
CK Cook Islands|CL Chile|CM Cameroon|CN China|CO Colombia|CR Costa Rica|CU Cuba|CV Cabo Verde|CW Curaçao
CX Christmas Island|CY Cyprus|CZ Czechia|DE Germany|DJ Djibouti|DK Denmark|DM Dominica|DO Dominican Republic
DZ Algeria|EC Ecuador|EE Estonia|EG Egypt|EH Western Sahara|ER Eritrea|ES Spain|ET Ethiopia|FI Finland|FJ Fiji
FK Falkland Islands (Malvinas)|FM Micronesia, Federated States of|FO Faroe Islands|FR France|GA Gabon
GB United Kingdom of Great Britain and Northern Ireland|GD Grenada|GE Georgia|GF French Guiana|GG Guernsey
GH Ghana|GI Gibraltar|GL Greenland|GM Gambia|GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece
GS South Georgia and the South Sandwich Islands|GT Guatemala|GU Guam|GW Guinea-Bissau|GY Guyana|HK Hong Kong
HM Heard Island and McDonald Islands|HN Honduras|HR Croatia|HT Haiti|HU Hungary|ID Indonesia|IE Ireland
IL Israel|IM Isle of Man|IN India|IO British Indian Ocean Territory|IQ Iraq|IR Iran, Islamic Republic of
IS Iceland|IT Italy|JE Jersey|JM Jamaica|JO Jordan|JP Japan|KE Kenya|KG Kyrgyzstan|KH Cambodia|KI Kiribati
KM Comoros|KN Saint Kitts and Nevis|KP Korea, Democratic People's Republic of|KR Korea, Republic of|KW Kuwait
KY Cayman Islands|KZ Kazakhstan|LA Lao People's Democratic Republic|LB Lebanon|LC Saint Lucia|LI Liechtenstein
LK Sri Lanka|LR Liberia|LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia|LY Libya|MA Morocco|MC Monaco
MD Moldova, Republic of|ME Montenegro|MF Saint Martin (French part)|MG Madagascar|MH Marshall Islands
MK North Macedonia|ML Mali|MM Myanmar|MN Mongolia|MO Macao|MP Northern Mariana Islands|MQ Martinique
MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|MV Maldives|MW Malawi|MX Mexico|MY Malaysia|MZ Mozambique
NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island|NG Nigeria|NI Nicaragua|NL Netherlands|NO Norway
NP Nepal|NR Nauru|NU Niue|NZ New Zealand|OM Oman|PA Panama|PE Peru|PF French Polynesia|PG Papua New Guinea
PH Philippines|PK Pakistan|PL Poland|PM Saint Pierre and Miquelon|PN Pitcairn|PR Puerto Rico
PS Palestine, State of|PT Portugal|PW Palau|PY Paraguay|QA Qatar|RE Réunion|RO Romania|RS Serbia
RU Russian Federation|RW Rwanda|SA Saudi Arabia|SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden
SG Singapore|SH Saint Helena, Ascension and Tristan da Cunha|SI Slovenia|SJ Svalbard and Jan Mayen|SK Slovakia
SL Sierra Leone|SM San Marino|SN Senegal|SO Somalia|SR Suriname|SS South Sudan|ST Sao Tome and Principe
SV El Salvador|SX Sint Maarten (Dutch part)|SY Syrian Arab Republic|SZ Eswatini|TC Turks and Caicos Islands
TD Chad|TF French Southern Territories|TG Togo|TH Thailand|TJ Tajikistan|TK Tokelau|TL Timor-Leste
TM Turkmenistan|TN Tunisia|TO Tonga|TR Türkiye|TT Trinidad and Tobago|TV Tuvalu|TW Taiwan, Province of China
TZ Tanzania, United Republic of|UA Ukraine|UG Uganda|UM United States Minor Outlying Islands
US United States of America|UY Uruguay|UZ Uzbekistan|VA Holy See|VC Saint Vincent and the Grenadines
VE Venezuela, Bolivarian Republic of|VG Virgin Islands (British)|VI Virgin Islands (U.S.)|VN Viet Nam
VU Vanuatu|WF Wallis and Futuna|WS Samoa|YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe
"""

# Other names services use: common English forms, former names, and Dutch/local names of nearby countries.
# XK (Kosovo) is a user-assigned code, not ISO, but every invoicing service lists Kosovo.
_ALIASES = """
NL:The Netherlands|Nederland|Holland|Netherlands (Kingdom of the)|Kingdom of the Netherlands
GB:United Kingdom|UK|U.K.|Great Britain|Britain|England|Scotland|Wales|Northern Ireland|Verenigd Koninkrijk
US:United States|USA|U.S.A.|U.S.|America|Verenigde Staten|Verenigde Staten van Amerika
DE:Duitsland|Deutschland|Federal Republic of Germany|Allemagne
BE:België|Belgie|Belgique|Belgien|FR:Frankrijk|Frankreich|LU:Luxemburg|ES:Spanje|España|Espana|IT:Italië|Italia
AT:Oostenrijk|Österreich|CH:Zwitserland|Schweiz|Suisse|DK:Denemarken|Danmark|SE:Zweden|Sverige|NO:Noorwegen|Norge
FI:Finland|Suomi|PL:Polen|Polska|PT:Portugal|IE:Ierland|Republic of Ireland|Éire|GR:Griekenland|Hellas
CZ:Czech Republic|Tsjechië|SK:Slowakije|Slovak Republic|HU:Hongarije|HR:Kroatië|SI:Slovenië|RO:Roemenië
BG:Bulgarije|EE:Estland|LV:Letland|LT:Litouwen|CY:Cyprus|MT:Malta|IS:IJsland|TR:Turkey|Turkije|Turkiye
RU:Russia|Rusland|UA:Oekraïne|CN:People's Republic of China|PRC|TW:Taiwan|Republic of China|HK:Hong Kong SAR
MO:Macau|Macao SAR|KR:South Korea|Korea|Republic of Korea|KP:North Korea|LA:Laos|VN:Vietnam|BN:Brunei
MM:Burma|IR:Iran|SY:Syria|PS:Palestine|Palestinian Territories|MD:Moldova|MK:Macedonia
MK:Republic of North Macedonia|Former Yugoslav Republic of Macedonia|BA:Bosnia|SZ:Swaziland
BO:Bolivia|VE:Venezuela|TZ:Tanzania|FM:Micronesia|FK:Falkland Islands|CV:Cape Verde
CI:Ivory Coast|Cote d'Ivoire
CD:Democratic Republic of the Congo|DR Congo|Congo, the Democratic Republic of the|Congo-Kinshasa
CD:Congo (Kinshasa)|Zaire
CG:Republic of the Congo|Congo-Brazzaville|Congo (Brazzaville)|TL:East Timor|VA:Vatican|Vatican City
VA:Holy See (Vatican City State)|VG:British Virgin Islands|VI:US Virgin Islands|United States Virgin Islands
BQ:Bonaire|Caribbean Netherlands|CW:Curacao|SX:Sint Maarten|MF:Saint Martin|BL:Saint Barthelemy|RE:Reunion
AX:Aland Islands|ST:Sao Tome|São Tomé and Príncipe|KN:Saint Kitts|KG:Kyrgyz Republic|GM:The Gambia
BS:The Bahamas|SH:Saint Helena|SJ:Svalbard|WF:Wallis and Futuna Islands|PN:Pitcairn Islands|FO:Faeroe Islands
GS:South Georgia|CC:Cocos Islands|Keeling Islands|UM:US Minor Outlying Islands|AE:UAE|Emirates
SA:Kingdom of Saudi Arabia|DO:Dominican Rep.|CF:Central African Rep.|XK:Kosovo|LY:Libyan Arab Jamahiriya
MK:Macedonia, the Former Yugoslav Republic of|VG:Virgin Islands, British|VI:Virgin Islands, U.S.
PS:Palestinian Territory, Occupied|Occupied Palestinian Territory|IR:Islamic Republic of Iran
"""


def normalise_name(name: str) -> str:
    """Reduce a country name to a comparable key: no accents, case, punctuation, "The" or "St." forms."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = re.sub(r"[^a-z0-9]+", " ", text.replace("&", " and ").replace(".", "").replace("'", ""))
    words = text.split()
    if words[:1] == ["the"]:
        words = words[1:]
    if words[-1:] == ["the"]:  # "Gambia, The"
        words = words[:-1]
    return " ".join("saint" if w == "st" else w for w in words)


def _parse(table: str, mark: str) -> list[tuple[str, str]]:
    """Read "CC<mark>name|name|CC<mark>name" rows; a code applies to the names after it."""
    pairs: list[tuple[str, str]] = []
    code = ""
    for line in table.strip().splitlines():
        for item in line.split("|"):
            if len(item) > 3 and item[2] == mark and item[:2].isupper():
                code, item = item[:2], item[3:]
            pairs.append((code, item))
    return pairs


_OFFICIAL = _parse(_ISO, " ")
ISO_CODES: frozenset[str] = frozenset(code for code, _ in _OFFICIAL)
_NAMES: dict[str, str] = dict(_OFFICIAL)
_BY_NAME: dict[str, str] = {normalise_name(name): code for code, name in _parse(_ALIASES, ":")}
_BY_NAME.update({normalise_name(name): code for code, name in _OFFICIAL})


def iso_from_name(name: str) -> str | None:
    """Return the ISO 3166-1 alpha-2 code of a country name or alias (a code itself is accepted), or None.

    Args:
        name: an English name ("Netherlands", "Korea, Republic of"), a common alias ("The Netherlands",
            "Nederland", "UK", "United States of America") or an alpha-2 code.

    Returns:
        The upper-case code, or None when the name is unknown.
    """
    text = name.strip()
    if len(text) == 2 and text.upper() in ISO_CODES:
        return text.upper()
    return _BY_NAME.get(normalise_name(text))


def country_name(code: str) -> str | None:
    """Return the ISO English short name of an alpha-2 code, or None when the code is not assigned."""
    return _NAMES.get(code.upper())
