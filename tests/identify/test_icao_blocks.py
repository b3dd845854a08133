"""ICAO address blocks: the table itself, parsing hex ids, and State-of-Registry lookups."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pycountry
import pytest

from skyfence.identify.icao_blocks import (
    ICAO_BLOCKS,
    block_index,
    parse_icao24,
    registration_state,
    state_of,
)

#: block sizes that Table 9-1 (Amendment 92) uses
ANNEX_SIZES = {2048, 4096, 8192, 32768, 262144, 1048576}


def reference_state(address: int) -> str | None:
    """Linear scan of the table, the slow obvious way, to check the fast paths against."""
    if not 0 < address < 0xFFFFFF:
        return None
    for start, end, iso3, _ in ICAO_BLOCKS:
        if start <= address <= end:
            return iso3
    return None


# -- the table ---------------------------------------------------------------------------


def test_blocks_sorted_and_not_overlapping() -> None:
    for (_, prev_end, _, prev), (start, _, _, name) in itertools.pairwise(ICAO_BLOCKS):
        assert prev_end < start, f"{prev} overlaps {name}"


def test_blocks_are_annex_sizes_aligned_on_their_size() -> None:
    for start, end, _, name in ICAO_BLOCKS:
        size = end - start + 1
        assert size in ANNEX_SIZES, f"{name}: {size} addresses"
        assert start % size == 0, f"{name}: {start:06X} not aligned on {size}"
        assert start > 0 and end < 0xFFFFFF


def test_every_state_has_one_block_and_a_real_iso3_code() -> None:
    codes = [iso3 for _, _, iso3, _ in ICAO_BLOCKS if iso3 is not None]
    assert len(codes) == len(set(codes)), "a State appears twice"
    for code in codes:
        assert pycountry.countries.get(alpha_3=code) is not None, code
    # 193 ICAO Member States (Amendment 92 lists them all) plus Taiwan's de facto block
    assert len(codes) == 194


def test_icao_administered_blocks_belong_to_no_state() -> None:
    icao = [(start, end) for start, end, iso3, _ in ICAO_BLOCKS if iso3 is None]
    assert (0xF00000, 0xF07FFF) in icao
    assert (0xF09000, 0xF097FF) in icao
    assert registration_state([0xF00000, 0xF07FFF, 0xF09000, 0xF097FF]).tolist() == [None] * 4


# -- blocks that skyfence's scenarios depend on -----------------------------------------

KNOWN_BLOCKS = [
    # (first, last, ISO3, the block's owner just below, just above)
    (0x100000, 0x1FFFFF, "RUS", None, None),
    (0x511000, 0x5117FF, "EST", None, None),
    (0x488000, 0x48FFFF, "POL", "NLD", "PRT"),
    # Amendment 92 doubled Belarus's block; before it was 510000-5103FF
    (0x510000, 0x5107FF, "BLR", "UKR", None),
    (0x508000, 0x50FFFF, "UKR", "UZB", "BLR"),
    (0x458000, 0x45FFFF, "DNK", "BGR", "FIN"),
    (0x4A0000, 0x4A7FFF, "ROU", "CZE", "SWE"),
    (0xA00000, 0xAFFFFF, "USA", None, None),
    (0x3C0000, 0x3FFFFF, "DEU", "FRA", "GBR"),
    (0x4CA000, 0x4CAFFF, "IRL", None, None),
    (0x501800, 0x501FFF, "HRV", "ALB", None),
]


@pytest.mark.parametrize(("first", "last", "iso3", "below", "above"), KNOWN_BLOCKS)
def test_known_block_edges(
    first: int, last: int, iso3: str, below: str | None, above: str | None
) -> None:
    inside = registration_state(np.array([first, last], dtype=np.uint32)).tolist()
    assert inside == [iso3, iso3]
    outside = registration_state(np.array([first - 1, last + 1], dtype=np.uint32)).tolist()
    assert outside == [below, above]
    assert state_of(f"{first:06X}") == iso3
    assert state_of(f"{last:06x}") == iso3
    assert state_of(f"{last + 1:06x}") == above


def test_every_block_edge_and_its_neighbours() -> None:
    firsts = np.array([b[0] for b in ICAO_BLOCKS], dtype=np.int64)
    lasts = np.array([b[1] for b in ICAO_BLOCKS], dtype=np.int64)
    expected = np.arange(len(ICAO_BLOCKS))
    assert (block_index(firsts) == expected).all()
    assert (block_index(lasts) == expected).all()
    assert (block_index(firsts - 1) != expected).all()
    assert (block_index(lasts + 1) != expected).all()
    # the same through the hex-string path
    assert (block_index([f"{a:06X}" for a in lasts]) == expected).all()


def test_lookup_matches_a_linear_scan_of_the_table() -> None:
    rng = np.random.default_rng(24)
    edges = [a + d for b in ICAO_BLOCKS for a in b[:2] for d in (-1, 0, 1)]
    addresses = np.concatenate([rng.integers(0, 1 << 24, 20_000), edges, [0, 0xFFFFFF]])
    fast = registration_state(addresses).tolist()
    assert fast == [reference_state(int(a)) for a in addresses]
    assert [state_of(f"{a:06x}") for a in addresses] == fast


# -- real aircraft (traffic's sample flights; the state follows from callsign/registration)

SAMPLES = [
    ("belevingsvlucht", "NLD"),  # Transavia Boeing 737, PH- register
    ("rega_zh", "CHE"),  # Rega rescue helicopter, HB- register
    ("samu31", "FRA"),  # SAMU 31 ambulance helicopter
    ("guatemala", "SLV"),  # flight calibration aircraft YS-111N (El Salvador)
    ("kota_kinabalu", "MYS"),  # calibration aircraft 9M-FCL
    ("montreal", "CAN"),  # NAV CANADA calibration aircraft
    ("munich", "DEU"),  # FCS calibration aircraft
    ("bornholm", "SWE"),  # Swedish flight calibration service
    ("sydney", "AUS"),  # Airservices Australia calibration aircraft
    ("elal747", "ISR"),  # El Al Boeing 747
    ("kiwi", "NZL"),  # Air New Zealand
    ("qantas747", "AUS"),
    ("texas_longhorn", "USA"),  # N56821
    ("thankyou", "HUN"),  # HA-XAE
    ("turkish_flag", "TUR"),  # Turkish Airlines
    ("georeal_fyn_island", "CZE"),  # OK-VOK
    ("vasaloppet", "BEL"),  # OO-LET
    ("aircraft_carrier", "USA"),  # US Navy
]


@pytest.fixture(scope="module")
def samples() -> object:
    from traffic.data import samples as traffic_samples

    return traffic_samples


@pytest.mark.parametrize(("name", "iso3"), SAMPLES)
def test_real_aircraft_from_traffic_samples(samples: object, name: str, iso3: str) -> None:
    data = getattr(samples, name).data
    ids = data["icao24"]
    states = registration_state(ids)
    assert (states == iso3).all(), set(states.tolist())
    assert state_of(str(ids.iloc[0])) == iso3


@pytest.mark.slow
def test_traffic_collection_airlines(samples: object) -> None:
    """Airline flights of a whole collection: callsign prefix and ICAO address agree."""
    data = samples.quickstart.data  # type: ignore[attr-defined]
    by_airline = {"MSR": "EGY", "QTR": "QAT", "DAH": "DZA", "AFR": "FRA", "KLM": "NLD"}
    first = data.drop_duplicates("icao24")
    for prefix, iso3 in by_airline.items():
        ids = first.loc[first.callsign.str.startswith(prefix, na=False), "icao24"]
        assert len(ids) > 0, prefix
        states = registration_state(ids)
        share = float(np.mean(states == iso3))
        assert share > 0.9, (prefix, share)


def test_flarm_ids_of_gliders_are_no_state(samples: object) -> None:
    """Glider ids from FLARM (DDxxxx) are not ICAO-allocated: no State."""
    ids = samples.cevennes.data["icao24"]  # type: ignore[attr-defined]
    assert ids.str.lower().str.startswith("dd").all()
    assert (registration_state(ids) == None).all()  # noqa: E711


# -- parsing -----------------------------------------------------------------------------


def test_parse_valid_ids() -> None:
    addr, ok = parse_icao24(["484506", "3C6444", "a00001", " 4ca7b5\t", "000001", "fffffe"])
    assert ok.all()
    assert addr.dtype == np.uint32
    assert addr.tolist() == [0x484506, 0x3C6444, 0xA00001, 0x4CA7B5, 0x000001, 0xFFFFFE]


INVALID = [
    "T0042",  # radar track id
    "",
    "zzzzzz",
    "12345",
    "1234567",
    "000000",
    "FFFFFF",
    "ffffff",
    "0x1234",  # Python's int() would take these four
    "+12345",
    "-12345",
    "1_2345",
    "４８４５０６",  # full-width digits: int(..., 16) accepts them, the Annex does not
    "48 506",
    "48450g",
    "é84506",
]


@pytest.mark.parametrize("text", INVALID)
def test_parse_rejects(text: str) -> None:
    addr, ok = parse_icao24([text, "484506"])
    assert ok.tolist() == [False, True]
    assert addr[0] == 0
    assert state_of(text) is None
    assert registration_state([text]).tolist() == [None]


def test_parse_rejects_missing_and_non_text() -> None:
    values = pd.Series(["484506", None, np.nan, pd.NA, 484506, 4.5], dtype=object)
    addr, ok = parse_icao24(values)
    assert ok.tolist() == [True, False, False, False, False, False]
    assert addr[0] == 0x484506


def test_parse_accepts_every_container_with_the_same_result() -> None:
    ids = ["484506", " 4ca7b5", "T0042", None, "511000", "zzzzzz"]
    expected_addr, expected_ok = parse_icao24(ids)
    assert expected_ok.tolist() == [True, True, False, False, True, False]
    containers = [
        np.array(ids, dtype=object),
        pd.Series(ids, dtype=object),
        pd.Series(ids, dtype="string"),
        pd.Series(ids, dtype="string[pyarrow]"),
        pd.Series(ids).astype("category"),
        pa.array(ids),
        pa.chunked_array([ids[:2], ids[2:]]),
        pa.array(["x", *ids]).slice(1),
        pa.array(ids).dictionary_encode(),
        pa.array(ids, type=pa.large_string()),
    ]
    for values in containers:
        addr, ok = parse_icao24(values)
        assert ok.tolist() == expected_ok.tolist(), type(values)
        assert addr.tolist() == expected_addr.tolist(), type(values)
    addr, ok = parse_icao24(np.array(["484506", "4CA7B5"]))  # fixed-width numpy unicode
    assert ok.all() and addr.tolist() == [0x484506, 0x4CA7B5]


def test_parse_empty_and_scalar() -> None:
    addr, ok = parse_icao24([])
    assert addr.shape == ok.shape == (0,)
    addr, ok = parse_icao24("511000")
    assert ok.tolist() == [True] and addr.tolist() == [0x511000]


def test_parse_matches_python_on_random_text() -> None:
    rng = np.random.default_rng(7)
    alphabet = np.array(list("0123456789abcdefABCDEFxyzT _-+"))
    lengths = rng.integers(0, 9, 5_000)
    texts = ["".join(rng.choice(alphabet, n)) for n in lengths]
    addr, ok = parse_icao24(texts)
    for text, a, v in zip(texts, addr.tolist(), ok.tolist(), strict=True):
        stripped = text.strip()
        want = len(stripped) == 6 and all(c in "0123456789abcdefABCDEF" for c in stripped)
        want = want and int(stripped, 16) not in (0, 0xFFFFFF)
        assert v == want, text
        assert a == (int(stripped, 16) if want else 0), text


# -- lookups -----------------------------------------------------------------------------


def test_registration_state_mixed_ids_and_integers() -> None:
    states = registration_state(["3c6444", "a00001", "4ca123", "T0042", "", "f00001"])
    assert states.dtype == object
    assert states.tolist() == ["DEU", "USA", "IRL", None, None, None]
    ints = registration_state(np.array([0x3C6444, 0, -5, 0xFFFFFF, 1 << 30], dtype=np.int64))
    assert ints.tolist() == ["DEU", None, None, None, None]
    assert registration_state(pd.Series([0x100000], dtype="int64")).tolist() == ["RUS"]
    assert registration_state(pa.array([0x4A0000])).tolist() == ["ROU"]


def test_unallocated_addresses_have_no_state() -> None:
    # gaps between blocks and the reserved upper ranges
    for address in (0x000001, 0x003FFF, 0x0E0000, 0x200000, 0xB00000, 0xD00000, 0xFFFFFE):
        assert reference_state(address) is None
        assert registration_state([address]).tolist() == [None]


def test_state_of_rejects_non_strings() -> None:
    assert state_of(0x484506) is None  # type: ignore[arg-type]
    assert state_of(None) is None  # type: ignore[arg-type]
