"""State of Registry from a 24-bit ICAO aircraft address (the Mode S "hex").

ICAO allocates the 2^24 aircraft addresses to States in blocks whose size is a power of
two and whose start is aligned on that size (Annex 10, Volume III, Part I, Chapter 9,
Appendix, Table 9-1 "Allocation of aircraft addresses to States"). A State assigns the
addresses of its block to the aircraft on its register, so the block an address falls in
names the State of Registry, whoever operates the aircraft and wherever it flies.

Source
------
Table 9-1 as amended by Amendment 92 (applicable 28 November 2024), transcribed in two
public copies that agree row for row:

* tar1090 ``html/flags.js`` (wiedehopf/tar1090, 2025 revision), and
* an independent conversion of the Amendment 92 bit patterns (Swiss FOCA copy of the
  Annex) published with a TypeScript ``icaoCountry.ts`` table.

Both were checked against two copies of the older table (2nd edition 2007, amendments
through 88-A: dump1090-mutability / readsb ``flags.js`` and ``traffic``'s
``patterns.json``) and against rs1090 0.7's ``patterns.json``. Every difference with the
older table is one of the Amendment 92 changes: each former 1 024-address block now has
2 048 addresses (so Croatia, Latvia, Lithuania, Moldova, Slovakia, Slovenia and
Uzbekistan start 0x400 lower, e.g. Croatia 501800 instead of 501C00, and Belarus is
510000-5107FF, Estonia 511000-5117FF), Colombia has 8 192, Qatar 4 096, and Andorra,
Dominica, Saint Kitts and Nevis, South Sudan, Timor-Leste and Tuvalu have new blocks.
Rows whose size the copies disagree on carry a comment. The ISO 3166-1 alpha-3 codes
are ours.

What the table does not say
---------------------------
* National sub-allocations are not in the Annex: Hong Kong and Macao aircraft show as
  CHN, Bermuda, Cayman and Isle of Man aircraft as GBR.
* The ICAO-administered blocks F00000-F07FFF (temporary addresses) and F09000-F097FF
  (special use) belong to no State: :func:`registration_state` gives None for them.
  899000-8997FF is an ICAO special-use block that Taiwan's register uses; it maps to
  TWN because that is what an operator needs to know.
* Military aircraft get addresses from their State's block like any other aircraft;
  the Annex names no military sub-blocks, so military status is left to an aircraft
  database.
* A transponder can be misconfigured or spoofed: the State is what the address claims.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "ICAO_BLOCKS",
    "REGISTRATION_STATES",
    "IdColumn",
    "block_index",
    "check_watch_state",
    "parse_icao24",
    "registration_state",
    "state_of",
]

#: A column of track ids or addresses: list, numpy array, pandas Series or Arrow array.
IdColumn: TypeAlias = npt.ArrayLike | Sequence[object] | pa.Array | pa.ChunkedArray

#: (first address, last address inclusive, ISO 3166-1 alpha-3 or None, holder), sorted
#: by first address, never overlapping. None marks a block ICAO keeps for itself.
ICAO_BLOCKS: Final[tuple[tuple[int, int, str | None, str], ...]] = (
    (0x004000, 0x0047FF, "ZWE", "Zimbabwe"),
    (0x006000, 0x006FFF, "MOZ", "Mozambique"),
    (0x008000, 0x00FFFF, "ZAF", "South Africa"),
    (0x010000, 0x017FFF, "EGY", "Egypt"),
    (0x018000, 0x01FFFF, "LBY", "Libya"),
    (0x020000, 0x027FFF, "MAR", "Morocco"),
    (0x028000, 0x02FFFF, "TUN", "Tunisia"),
    (0x030000, 0x0307FF, "BWA", "Botswana"),
    (0x032000, 0x032FFF, "BDI", "Burundi"),
    (0x034000, 0x034FFF, "CMR", "Cameroon"),
    (0x035000, 0x0357FF, "COM", "Comoros"),
    (0x036000, 0x036FFF, "COG", "Congo"),
    (0x038000, 0x038FFF, "CIV", "Côte d'Ivoire"),
    (0x03E000, 0x03EFFF, "GAB", "Gabon"),
    (0x040000, 0x040FFF, "ETH", "Ethiopia"),
    (0x042000, 0x042FFF, "GNQ", "Equatorial Guinea"),
    (0x044000, 0x044FFF, "GHA", "Ghana"),
    (0x046000, 0x046FFF, "GIN", "Guinea"),
    (0x048000, 0x0487FF, "GNB", "Guinea-Bissau"),
    (0x04A000, 0x04A7FF, "LSO", "Lesotho"),
    (0x04C000, 0x04CFFF, "KEN", "Kenya"),
    (0x050000, 0x050FFF, "LBR", "Liberia"),
    (0x054000, 0x054FFF, "MDG", "Madagascar"),
    (0x058000, 0x058FFF, "MWI", "Malawi"),
    (0x05A000, 0x05A7FF, "MDV", "Maldives"),
    (0x05C000, 0x05CFFF, "MLI", "Mali"),
    (0x05E000, 0x05E7FF, "MRT", "Mauritania"),
    (0x060000, 0x0607FF, "MUS", "Mauritius"),
    (0x062000, 0x062FFF, "NER", "Niger"),
    (0x064000, 0x064FFF, "NGA", "Nigeria"),
    (0x068000, 0x068FFF, "UGA", "Uganda"),
    (0x06A000, 0x06AFFF, "QAT", "Qatar"),  # A92: 4 096 (rs1090 0.7 copy: 2 048)
    (0x06C000, 0x06CFFF, "CAF", "Central African Republic"),
    (0x06E000, 0x06EFFF, "RWA", "Rwanda"),
    (0x070000, 0x070FFF, "SEN", "Senegal"),
    (0x074000, 0x0747FF, "SYC", "Seychelles"),
    (0x076000, 0x0767FF, "SLE", "Sierra Leone"),
    (0x078000, 0x078FFF, "SOM", "Somalia"),
    (0x07A000, 0x07A7FF, "SWZ", "Eswatini"),
    (0x07C000, 0x07CFFF, "SDN", "Sudan"),
    (0x080000, 0x080FFF, "TZA", "United Republic of Tanzania"),
    (0x084000, 0x084FFF, "TCD", "Chad"),
    (0x088000, 0x088FFF, "TGO", "Togo"),
    (0x08A000, 0x08AFFF, "ZMB", "Zambia"),
    (0x08C000, 0x08CFFF, "COD", "Democratic Republic of the Congo"),
    (0x090000, 0x090FFF, "AGO", "Angola"),
    (0x094000, 0x0947FF, "BEN", "Benin"),
    (0x096000, 0x0967FF, "CPV", "Cabo Verde"),
    (0x098000, 0x0987FF, "DJI", "Djibouti"),
    (0x09A000, 0x09AFFF, "GMB", "Gambia"),
    (0x09C000, 0x09CFFF, "BFA", "Burkina Faso"),
    (0x09E000, 0x09E7FF, "STP", "Sao Tome and Principe"),
    (0x0A0000, 0x0A7FFF, "DZA", "Algeria"),
    (0x0A8000, 0x0A8FFF, "BHS", "Bahamas"),
    (0x0AA000, 0x0AA7FF, "BRB", "Barbados"),
    (0x0AB000, 0x0AB7FF, "BLZ", "Belize"),
    (0x0AC000, 0x0ADFFF, "COL", "Colombia"),  # A92: 8 192 (rs1090 0.7 copy: 4 096)
    (0x0AE000, 0x0AEFFF, "CRI", "Costa Rica"),
    (0x0B0000, 0x0B0FFF, "CUB", "Cuba"),
    (0x0B2000, 0x0B2FFF, "SLV", "El Salvador"),
    (0x0B4000, 0x0B4FFF, "GTM", "Guatemala"),
    (0x0B6000, 0x0B6FFF, "GUY", "Guyana"),
    (0x0B8000, 0x0B8FFF, "HTI", "Haiti"),
    (0x0BA000, 0x0BAFFF, "HND", "Honduras"),
    (0x0BC000, 0x0BC7FF, "VCT", "Saint Vincent and the Grenadines"),
    (0x0BE000, 0x0BEFFF, "JAM", "Jamaica"),
    (0x0C0000, 0x0C0FFF, "NIC", "Nicaragua"),
    (0x0C2000, 0x0C2FFF, "PAN", "Panama"),
    (0x0C4000, 0x0C4FFF, "DOM", "Dominican Republic"),
    (0x0C6000, 0x0C6FFF, "TTO", "Trinidad and Tobago"),
    (0x0C8000, 0x0C8FFF, "SUR", "Suriname"),
    (0x0CA000, 0x0CA7FF, "ATG", "Antigua and Barbuda"),
    (0x0CC000, 0x0CC7FF, "GRD", "Grenada"),
    (0x0D0000, 0x0D7FFF, "MEX", "Mexico"),
    (0x0D8000, 0x0DFFFF, "VEN", "Venezuela"),
    (0x100000, 0x1FFFFF, "RUS", "Russian Federation"),
    (0x201000, 0x2017FF, "NAM", "Namibia"),
    (0x202000, 0x2027FF, "ERI", "Eritrea"),
    (0x300000, 0x33FFFF, "ITA", "Italy"),
    (0x340000, 0x37FFFF, "ESP", "Spain"),
    (0x380000, 0x3BFFFF, "FRA", "France"),
    (0x3C0000, 0x3FFFFF, "DEU", "Germany"),
    (0x400000, 0x43FFFF, "GBR", "United Kingdom"),
    (0x440000, 0x447FFF, "AUT", "Austria"),
    (0x448000, 0x44FFFF, "BEL", "Belgium"),
    (0x450000, 0x457FFF, "BGR", "Bulgaria"),
    (0x458000, 0x45FFFF, "DNK", "Denmark"),
    (0x460000, 0x467FFF, "FIN", "Finland"),
    (0x468000, 0x46FFFF, "GRC", "Greece"),
    (0x470000, 0x477FFF, "HUN", "Hungary"),
    (0x478000, 0x47FFFF, "NOR", "Norway"),
    (0x480000, 0x487FFF, "NLD", "Netherlands"),
    (0x488000, 0x48FFFF, "POL", "Poland"),
    (0x490000, 0x497FFF, "PRT", "Portugal"),
    (0x498000, 0x49FFFF, "CZE", "Czechia"),
    (0x4A0000, 0x4A7FFF, "ROU", "Romania"),
    (0x4A8000, 0x4AFFFF, "SWE", "Sweden"),
    (0x4B0000, 0x4B7FFF, "CHE", "Switzerland"),
    (0x4B8000, 0x4BFFFF, "TUR", "Türkiye"),
    (0x4C0000, 0x4C7FFF, "SRB", "Serbia"),
    (0x4C8000, 0x4C87FF, "CYP", "Cyprus"),
    (0x4CA000, 0x4CAFFF, "IRL", "Ireland"),
    (0x4CC000, 0x4CCFFF, "ISL", "Iceland"),
    (0x4D0000, 0x4D07FF, "LUX", "Luxembourg"),
    (0x4D2000, 0x4D27FF, "MLT", "Malta"),
    (0x4D4000, 0x4D47FF, "MCO", "Monaco"),
    (0x500000, 0x5007FF, "SMR", "San Marino"),
    (0x501000, 0x5017FF, "ALB", "Albania"),
    (0x501800, 0x501FFF, "HRV", "Croatia"),  # 501C00-501FFF before A92
    (0x502800, 0x502FFF, "LVA", "Latvia"),
    (0x503800, 0x503FFF, "LTU", "Lithuania"),
    (0x504800, 0x504FFF, "MDA", "Republic of Moldova"),
    (0x505800, 0x505FFF, "SVK", "Slovakia"),
    (0x506800, 0x506FFF, "SVN", "Slovenia"),
    (0x507800, 0x507FFF, "UZB", "Uzbekistan"),
    (0x508000, 0x50FFFF, "UKR", "Ukraine"),
    (0x510000, 0x5107FF, "BLR", "Belarus"),  # 510000-5103FF before A92
    (0x511000, 0x5117FF, "EST", "Estonia"),  # 511000-5113FF before A92
    (0x512000, 0x5127FF, "MKD", "North Macedonia"),
    (0x513000, 0x5137FF, "BIH", "Bosnia and Herzegovina"),
    (0x514000, 0x5147FF, "GEO", "Georgia"),
    (0x515000, 0x5157FF, "TJK", "Tajikistan"),
    (0x516000, 0x5167FF, "MNE", "Montenegro"),
    (0x600000, 0x6007FF, "ARM", "Armenia"),
    (0x600800, 0x600FFF, "AZE", "Azerbaijan"),
    (0x601000, 0x6017FF, "KGZ", "Kyrgyzstan"),
    (0x601800, 0x601FFF, "TKM", "Turkmenistan"),
    (0x680000, 0x6807FF, "BTN", "Bhutan"),
    (0x681000, 0x6817FF, "FSM", "Micronesia (Federated States of)"),
    (0x682000, 0x6827FF, "MNG", "Mongolia"),
    (0x683000, 0x6837FF, "KAZ", "Kazakhstan"),
    (0x684000, 0x6847FF, "PLW", "Palau"),
    (0x700000, 0x700FFF, "AFG", "Afghanistan"),
    (0x702000, 0x702FFF, "BGD", "Bangladesh"),
    (0x704000, 0x704FFF, "MMR", "Myanmar"),
    (0x706000, 0x706FFF, "KWT", "Kuwait"),
    (0x708000, 0x708FFF, "LAO", "Lao People's Democratic Republic"),
    (0x70A000, 0x70AFFF, "NPL", "Nepal"),
    (0x70C000, 0x70C7FF, "OMN", "Oman"),
    (0x70E000, 0x70EFFF, "KHM", "Cambodia"),
    (0x710000, 0x717FFF, "SAU", "Saudi Arabia"),
    (0x718000, 0x71FFFF, "KOR", "Republic of Korea"),
    (0x720000, 0x727FFF, "PRK", "Democratic People's Republic of Korea"),
    (0x728000, 0x72FFFF, "IRQ", "Iraq"),
    (0x730000, 0x737FFF, "IRN", "Iran (Islamic Republic of)"),
    (0x738000, 0x73FFFF, "ISR", "Israel"),
    (0x740000, 0x747FFF, "JOR", "Jordan"),
    (0x748000, 0x74FFFF, "LBN", "Lebanon"),
    (0x750000, 0x757FFF, "MYS", "Malaysia"),
    (0x758000, 0x75FFFF, "PHL", "Philippines"),
    (0x760000, 0x767FFF, "PAK", "Pakistan"),
    (0x768000, 0x76FFFF, "SGP", "Singapore"),
    (0x770000, 0x777FFF, "LKA", "Sri Lanka"),
    (0x778000, 0x77FFFF, "SYR", "Syrian Arab Republic"),
    (0x780000, 0x7BFFFF, "CHN", "China"),
    (0x7C0000, 0x7FFFFF, "AUS", "Australia"),
    (0x800000, 0x83FFFF, "IND", "India"),
    (0x840000, 0x87FFFF, "JPN", "Japan"),
    (0x880000, 0x887FFF, "THA", "Thailand"),
    (0x888000, 0x88FFFF, "VNM", "Viet Nam"),
    (0x890000, 0x890FFF, "YEM", "Yemen"),
    (0x894000, 0x894FFF, "BHR", "Bahrain"),
    (0x895000, 0x8957FF, "BRN", "Brunei Darussalam"),
    (0x896000, 0x896FFF, "ARE", "United Arab Emirates"),
    (0x897000, 0x8977FF, "SLB", "Solomon Islands"),
    (0x898000, 0x898FFF, "PNG", "Papua New Guinea"),
    (0x899000, 0x8997FF, "TWN", "Taiwan (ICAO special-use block)"),  # ICAO block, used by Taiwan
    (0x8A0000, 0x8A7FFF, "IDN", "Indonesia"),
    (0x900000, 0x9007FF, "MHL", "Marshall Islands"),
    (0x901000, 0x9017FF, "COK", "Cook Islands"),
    (0x902000, 0x9027FF, "WSM", "Samoa"),
    (0xA00000, 0xAFFFFF, "USA", "United States"),
    (0xC00000, 0xC3FFFF, "CAN", "Canada"),
    (0xC80000, 0xC87FFF, "NZL", "New Zealand"),
    (0xC88000, 0xC88FFF, "FJI", "Fiji"),
    (0xC8A000, 0xC8A7FF, "NRU", "Nauru"),
    (0xC8C000, 0xC8C7FF, "LCA", "Saint Lucia"),
    (0xC8D000, 0xC8D7FF, "TON", "Tonga"),
    (0xC8E000, 0xC8E7FF, "KIR", "Kiribati"),
    (0xC90000, 0xC907FF, "VUT", "Vanuatu"),
    (0xC91000, 0xC917FF, "AND", "Andorra"),
    (0xC92000, 0xC927FF, "DMA", "Dominica"),
    (0xC93000, 0xC937FF, "KNA", "Saint Kitts and Nevis"),
    (0xC94000, 0xC947FF, "SSD", "South Sudan"),
    (0xC95000, 0xC957FF, "TLS", "Timor-Leste"),
    (0xC97000, 0xC977FF, "TUV", "Tuvalu"),
    (0xE00000, 0xE3FFFF, "ARG", "Argentina"),
    (0xE40000, 0xE7FFFF, "BRA", "Brazil"),
    (0xE80000, 0xE80FFF, "CHL", "Chile"),
    (0xE84000, 0xE84FFF, "ECU", "Ecuador"),
    (0xE88000, 0xE88FFF, "PRY", "Paraguay"),
    (0xE8C000, 0xE8CFFF, "PER", "Peru"),
    (0xE90000, 0xE90FFF, "URY", "Uruguay"),
    (0xE94000, 0xE94FFF, "BOL", "Bolivia (Plurinational State of)"),
    (0xF00000, 0xF07FFF, None, "ICAO (temporary addresses)"),
    (0xF09000, 0xF097FF, None, "ICAO (special use)"),  # holder unnamed in sources
)

_STARTS: Final = np.array([b[0] for b in ICAO_BLOCKS], dtype=np.uint32)
_ENDS: Final = np.array([b[1] for b in ICAO_BLOCKS], dtype=np.uint32)
#: ISO3 per block plus a trailing None for "no block", indexed by block_index (-1 -> last)
_ISO3: Final = np.array([b[2] for b in ICAO_BLOCKS] + [None], dtype=object)
_START_LIST: Final = [b[0] for b in ICAO_BLOCKS]

_SIX_HEX_DIGITS: Final = 6


def _hex_pair_table() -> np.ndarray:
    """Two ASCII bytes read as one little-endian uint16 -> their hex byte value, or 0x100.

    Decoding two characters per lookup in a 64 Ki table halves the passes over the data
    compared with one lookup per character.
    """
    nibble = np.full(256, 0x100, dtype=np.uint16)
    for value, char in enumerate("0123456789abcdef"):
        nibble[ord(char)] = nibble[ord(char.upper())] = value
    first = nibble[np.arange(65536) & 0xFF]
    second = nibble[np.arange(65536) >> 8]
    return np.where((first | second) > 0xF, 0x100, (first << 4) | second).astype(np.uint16)


_HEX_PAIR: Final = _hex_pair_table()
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_NOT_ADDRESSES: Final = (0x000000, 0xFFFFFF)


def _as_arrow_strings(values: Any) -> pa.Array:
    """One Arrow string array for any column of ids; elements that are not text become null.

    Arrow does the whitespace trim and the length test in C and exposes the bytes as one
    buffer, which is what lets :func:`parse_icao24` avoid a Python loop per element.
    """
    if isinstance(values, pa.ChunkedArray):
        arr: Any = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    elif isinstance(values, pa.Array):
        arr = values
    else:
        if isinstance(values, (pd.Series, pd.Index)):
            if isinstance(values.dtype, (pd.ArrowDtype, pd.StringDtype)):
                try:
                    return _as_arrow_strings(pa.array(values))
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    pass
            values = values.to_numpy(dtype=object)
        elif isinstance(values, str):
            values = [values]
        array = np.asarray(values)
        if array.ndim != 1:
            array = array.reshape(-1)
        if array.dtype.kind == "S":
            array = np.char.decode(array, "ascii", errors="replace")
        try:
            arr = pa.array(array, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # mixed column: only real strings can be addresses
            arr = pa.array(
                [v if isinstance(v, str) else None for v in array.tolist()], type=pa.string()
            )
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    is_view = getattr(pa.types, "is_string_view", None)
    if is_view is not None and is_view(arr.type):
        arr = arr.cast(pa.large_string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        # numbers and other non-text columns hold no hex ids: all invalid
        return pa.nulls(len(arr), type=pa.string())
    return arr


def parse_icao24(values: IdColumn) -> tuple[np.ndarray, np.ndarray]:
    """Parse hex ICAO addresses: ``(uint32 addresses, valid mask)``.

    An element is valid when, with surrounding whitespace stripped, it is exactly six
    hex digits (either case) and neither ``000000`` nor ``FFFFFF``. Anything else (a
    radar track id such as ``T0042``, an empty string, None, a number) is invalid and
    its address is 0. Accepts lists, numpy arrays, pandas Series (including Arrow-backed
    strings) and Arrow arrays. Vectorized: Arrow trims and measures the strings, numpy
    decodes the six bytes of every candidate through a lookup table.

    Examples
    --------
    >>> addr, ok = parse_icao24(["484506", " 3c6444 ", "T0042", "ffffff"])
    >>> [hex(a) for a in addr], ok.tolist()
    (['0x484506', '0x3c6444', '0x0', '0x0'], [True, True, False, False])
    """
    arr = _as_arrow_strings(values)
    n = len(arr)
    addresses = np.zeros(n, dtype=np.uint32)
    valid = np.zeros(n, dtype=bool)
    if n == 0:
        return addresses, valid
    arr = pc.utf8_trim_whitespace(arr)
    length = pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False)
    candidates = np.flatnonzero(length == _SIX_HEX_DIGITS)
    if candidates.size == 0:
        return addresses, valid
    buffers = arr.buffers()
    if buffers[2] is None:
        return addresses, valid
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[arr.offset : arr.offset + n]
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    # the six bytes of each candidate, then three two-character lookups
    chars = sliding_window_view(data, _SIX_HEX_DIGITS)[offsets[candidates]]
    pairs = _HEX_PAIR[chars.view("<u2")]
    high, mid, low = pairs[:, 0], pairs[:, 1], pairs[:, 2]
    hex_ok = (high | mid | low) <= 0xFF
    value = high.astype(np.uint32)
    value <<= 8
    value |= mid
    value <<= 8
    value |= low
    hex_ok &= (value != _NOT_ADDRESSES[0]) & (value != _NOT_ADDRESSES[1])
    good = candidates[hex_ok]
    addresses[good] = value[hex_ok]
    valid[good] = True
    return addresses, valid


def _addresses_of(values: IdColumn) -> tuple[np.ndarray, np.ndarray]:
    """Addresses and validity from integers (used as they are) or hex strings (parsed)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        if pa.types.is_integer(values.type):
            values = np.asarray(values.to_numpy(zero_copy_only=False))
        else:
            return parse_icao24(values)
    elif isinstance(values, (pd.Series, pd.Index)):
        if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
            values = values.to_numpy()
        else:
            return parse_icao24(values)
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        array = array.reshape(-1)
        valid = (array > 0) & (array < 0xFFFFFF)
        return np.where(valid, array, 0).astype(np.uint32), valid
    return parse_icao24(array)


def _chunk_table() -> tuple[int, np.ndarray]:
    """Block index of every chunk of the address space, built with ``np.searchsorted``.

    Every block is a power of two aligned on its size, so with chunks as large as the
    smallest block each chunk lies wholly inside one block or outside all of them, and
    one table lookup per address replaces a binary search.
    """
    sizes = _ENDS.astype(np.int64) - _STARTS + 1
    shift = int(np.log2(sizes.min()))
    if np.any(_STARTS % (1 << shift)) or np.any(sizes % (1 << shift)):
        raise ValueError("ICAO_BLOCKS: every block must be aligned on the smallest block size")
    chunk_starts = np.arange(0, 1 << 24, 1 << shift, dtype=np.uint32)
    idx = np.searchsorted(_STARTS, chunk_starts, side="right").astype(np.int16) - 1
    inside = (idx >= 0) & (chunk_starts <= _ENDS[np.clip(idx, 0, None)])
    return shift, np.where(inside, idx, -1).astype(np.int16)


_CHUNK_SHIFT, _CHUNK_BLOCK = _chunk_table()


def block_index(addresses: IdColumn) -> np.ndarray:
    """Index into :data:`ICAO_BLOCKS` of each address's block, -1 when none holds it.

    Accepts integer addresses or hex strings (parsed with :func:`parse_icao24`;
    invalid ones get -1).
    """
    addr, valid = _addresses_of(addresses)
    idx = _CHUNK_BLOCK[addr >> _CHUNK_SHIFT].astype(np.intp)
    idx[~valid] = -1
    return idx


def registration_state(addresses: IdColumn) -> np.ndarray:
    """ISO 3166-1 alpha-3 State of Registry for each address (object array, None if unknown).

    Accepts integer addresses or hex strings. None for invalid ids, unallocated
    addresses and ICAO's own blocks.

    Examples
    --------
    >>> registration_state(["484506", "511000", "T0042"]).tolist()
    ['NLD', 'EST', None]
    >>> registration_state(np.array([0x100000, 0xF00001])).tolist()
    ['RUS', None]
    """
    return _ISO3[block_index(addresses)]


def state_of(icao24: str) -> str | None:
    """The ISO3 State of Registry of one hex address, None when unknown or not an address.

    Examples
    --------
    >>> state_of("4ca7b5"), state_of("T0042")
    ('IRL', None)
    """
    if not isinstance(icao24, str):
        return None
    text = icao24.strip()
    if len(text) != 6 or not _HEX_DIGITS.issuperset(text):
        return None
    address = int(text, 16)
    if address in _NOT_ADDRESSES:
        return None
    i = bisect_right(_START_LIST, address) - 1
    if i < 0 or address > ICAO_BLOCKS[i][1]:
        return None
    return ICAO_BLOCKS[i][2]


#: every State that holds an ICAO address block (ISO 3166-1 alpha-3)
REGISTRATION_STATES: Final = frozenset(b[2] for b in ICAO_BLOCKS if b[2] is not None)


def check_watch_state(code: str) -> str:
    """``code`` upper-cased when it names a State holding an ICAO address block.

    A watch state is a State of Registry, so it must be one the address table can
    return. Raises :class:`~skyfence.errors.UsageError` otherwise, suggesting the code
    when ``code`` is a state's English name (``Russia`` -> ``RUS``).

    Examples
    --------
    >>> check_watch_state("rus")
    'RUS'
    """
    from skyfence.errors import SkyfenceError, UsageError
    from skyfence.messages import show_value

    text = str(code).strip().upper()
    if text in REGISTRATION_STATES:
        return text
    hint = ""
    if len(text) != 3 or not text.isalpha():
        try:
            from skyfence.airspace.national import find_national

            hint = f"; did you mean {find_national(str(code)).code}?"
        except SkyfenceError:
            hint = ""
    kind = "an ISO 3166-1 alpha-3 code" if hint or len(text) != 3 else \
        "the ISO 3166-1 alpha-3 code of a State with an ICAO address block"
    raise UsageError(f"watch state {show_value(str(code))} is not {kind}{hint}")
