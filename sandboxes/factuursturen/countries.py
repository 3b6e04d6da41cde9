"""The country list: stable ids (as the service numbers them, 146 = Nederland) with names in five languages."""

from __future__ import annotations

__all__ = ["COUNTRIES", "LANGUAGES", "country_list", "resolve_country"]

LANGUAGES = ("nl", "en", "de", "fr", "es")

# id: (nl, en, de, fr, es). Ids follow the service's own numbering (alphabetical in Dutch, with gaps).
COUNTRIES: dict[int, tuple[str, str, str, str, str]] = {
    12: ("Aruba", "Aruba", "Aruba", "Aruba", "Aruba"),
    13: ("Australië", "Australia", "Australien", "Australie", "Australia"),
    18: ("België", "Belgium", "Belgien", "Belgique", "Bélgica"),
    27: ("Brazilië", "Brazil", "Brasilien", "Brésil", "Brasil"),
    30: ("Bulgarije", "Bulgaria", "Bulgarien", "Bulgarie", "Bulgaria"),
    34: ("Canada", "Canada", "Kanada", "Canada", "Canadá"),
    37: ("China", "China", "China", "Chine", "China"),
    45: ("Cyprus", "Cyprus", "Zypern", "Chypre", "Chipre"),
    46: ("Denemarken", "Denmark", "Dänemark", "Danemark", "Dinamarca"),
    50: ("Duitsland", "Germany", "Deutschland", "Allemagne", "Alemania"),
    56: ("Estland", "Estonia", "Estland", "Estonie", "Estonia"),
    62: ("Finland", "Finland", "Finnland", "Finlande", "Finlandia"),
    63: ("Frankrijk", "France", "Frankreich", "France", "Francia"),
    73: ("Griekenland", "Greece", "Griechenland", "Grèce", "Grecia"),
    84: ("Hongarije", "Hungary", "Ungarn", "Hongrie", "Hungría"),
    86: ("Ierland", "Ireland", "Irland", "Irlande", "Irlanda"),
    87: ("IJsland", "Iceland", "Island", "Islande", "Islandia"),
    88: ("India", "India", "Indien", "Inde", "India"),
    93: ("Italië", "Italy", "Italien", "Italie", "Italia"),
    96: ("Japan", "Japan", "Japan", "Japon", "Japón"),
    110: ("Kroatië", "Croatia", "Kroatien", "Croatie", "Croacia"),
    113: ("Letland", "Latvia", "Lettland", "Lettonie", "Letonia"),
    117: ("Liechtenstein", "Liechtenstein", "Liechtenstein", "Liechtenstein", "Liechtenstein"),
    118: ("Litouwen", "Lithuania", "Litauen", "Lituanie", "Lituania"),
    119: ("Luxemburg", "Luxembourg", "Luxemburg", "Luxembourg", "Luxemburgo"),
    129: ("Malta", "Malta", "Malta", "Malte", "Malta"),
    130: ("Marokko", "Morocco", "Marokko", "Maroc", "Marruecos"),
    139: ("Monaco", "Monaco", "Monaco", "Monaco", "Mónaco"),
    146: ("Nederland", "Netherlands", "Niederlande", "Pays-Bas", "Países Bajos"),
    151: ("Nieuw-Zeeland", "New Zealand", "Neuseeland", "Nouvelle-Zélande", "Nueva Zelanda"),
    157: ("Noorwegen", "Norway", "Norwegen", "Norvège", "Noruega"),
    163: ("Oostenrijk", "Austria", "Österreich", "Autriche", "Austria"),
    171: ("Polen", "Poland", "Polen", "Pologne", "Polonia"),
    172: ("Portugal", "Portugal", "Portugal", "Portugal", "Portugal"),
    176: ("Roemenië", "Romania", "Rumänien", "Roumanie", "Rumania"),
    188: ("Slovenië", "Slovenia", "Slowenien", "Slovénie", "Eslovenia"),
    189: ("Slowakije", "Slovakia", "Slowakei", "Slovaquie", "Eslovaquia"),
    192: ("Spanje", "Spain", "Spanien", "Espagne", "España"),
    200: ("Suriname", "Suriname", "Suriname", "Suriname", "Surinam"),
    213: ("Tsjechië", "Czech Republic", "Tschechien", "République tchèque", "República Checa"),
    215: ("Turkije", "Turkey", "Türkei", "Turquie", "Turquía"),
    224: ("Verenigd Koninkrijk", "United Kingdom", "Vereinigtes Königreich", "Royaume-Uni", "Reino Unido"),
    225: ("Verenigde Arabische Emiraten", "United Arab Emirates", "Vereinigte Arabische Emirate",
          "Émirats arabes unis", "Emiratos Árabes Unidos"),
    226: ("Verenigde Staten", "United States", "Vereinigte Staaten", "États-Unis", "Estados Unidos"),
    233: ("Zuid-Afrika", "South Africa", "Südafrika", "Afrique du Sud", "Sudáfrica"),
    236: ("Zweden", "Sweden", "Schweden", "Suède", "Suecia"),
    237: ("Zwitserland", "Switzerland", "Schweiz", "Suisse", "Suiza"),
    239: ("Curaçao", "Curaçao", "Curaçao", "Curaçao", "Curazao"),
    240: ("Sint Maarten", "Sint Maarten", "Sint Maarten", "Saint-Martin", "San Martín"),
}

_BY_NAME = {name.casefold(): cid for cid, names in COUNTRIES.items() for name in names}


def country_list(language: str) -> list[dict[str, str]]:
    """``[{"id": "146", "name": "Nederland"}, ...]`` by id, names in `language` (nl|en|de|fr|es).

    Raises:
        KeyError: an unknown language.
    """
    index = LANGUAGES.index(language) if language in LANGUAGES else -1
    if index < 0:
        raise KeyError(language)
    return [{"id": str(cid), "name": names[index]} for cid, names in sorted(COUNTRIES.items())]


def resolve_country(value: object) -> int | None:
    """A country id from an id (int or digits) or a name in any of the five languages; None if unknown."""
    text = str(value).strip()
    if text.isdigit():
        return int(text) if int(text) in COUNTRIES else None
    return _BY_NAME.get(text.casefold())
