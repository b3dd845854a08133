"""ASTERIX data blocks: one octet of category (CAT), two of length (LEN), then records.

``asterix-decoder`` is lenient (garbage decodes to empty records), so the framing is
checked here before anything is decoded: a block must name a known category and fit
in what is left of its payload.
"""

from __future__ import annotations

__all__ = ["KNOWN_CATEGORIES", "split_blocks"]

#: ASTERIX categories a data block may carry (what ``asterix-decoder`` knows)
KNOWN_CATEGORIES = frozenset({1, 2, 4, 8, 10, 11, 19, 20, 21, 23, 34, 48, 62, 63, 65, 240})


def split_blocks(payload: bytes, first_block: int) -> tuple[list[bytes], list[tuple[str, str]]]:
    """Cut a payload into data blocks, checking each CAT/LEN header.

    Returns the blocks and (field, message) for what could not be framed; the rest of
    a payload after a bad header cannot be framed either, so it is dropped with it.
    ``first_block`` blocks came before this payload (messages count on from them).

    >>> block = bytes([48, 0, 5, 0x80, 1])         # CAT 48, LEN 5, one short record
    >>> split_blocks(block + bytes([99, 0, 3]), 0)  # then a block of no known category
    ([b'0\\x00\\x05\\x80\\x01'], [('CAT', 'data block 2 at byte 5: unknown category 99')])
    """
    blocks: list[bytes] = []
    errors: list[tuple[str, str]] = []
    off = 0
    while off < len(payload):
        n = first_block + len(blocks) + 1
        left = len(payload) - off
        if left < 3:
            errors.append(("LEN", f"data block {n} at byte {off}: {left} stray bytes"))
            break
        cat, length = payload[off], int.from_bytes(payload[off + 1 : off + 3], "big")
        if cat not in KNOWN_CATEGORIES:
            errors.append(("CAT", f"data block {n} at byte {off}: unknown category {cat}"))
            break
        if length < 3 or length > left:
            errors.append(
                (
                    "LEN",
                    f"data block {n} at byte {off}: length {length} does not "
                    f"fit the {left} bytes left",
                )
            )
            break
        blocks.append(payload[off : off + length])
        off += length
    return blocks, errors
