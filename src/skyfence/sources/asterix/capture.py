"""UDP payloads of a capture file: pcap, pcapng, or a raw file of ASTERIX data blocks.

Radar data travels as UDP datagrams, so recordings are usually packet captures. The
payload of each UDP datagram (IPv4 or IPv6, over Ethernet with or without VLAN tags,
Linux cooked, BSD loopback or raw IP) is yielded with its capture time; anything that is
not UDP is passed over. A file that is no capture is one payload, without a time.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from skyfence.errors import InputError

__all__ = ["iter_payloads"]


def iter_payloads(path: str | Path) -> Iterator[tuple[float | None, bytes]]:
    """Yield ``(capture_time, bytes)``: UDP payloads of a pcap/pcapng, or a raw file whole.

    ``capture_time`` is unix seconds for captures and None for raw files.
    """
    data = Path(path).read_bytes()
    magic = data[:4]
    if magic in (
        b"\xd4\xc3\xb2\xa1",
        b"\xa1\xb2\xc3\xd4",
        b"\x4d\x3c\xb2\xa1",
        b"\xa1\xb2\x3c\x4d",
    ):
        yield from _pcap_payloads(data, str(path))
    elif magic == b"\x0a\x0d\x0d\x0a":
        yield from _pcapng_payloads(data, str(path))
    else:
        yield None, data


def _pcap_payloads(data: bytes, name: str) -> Iterator[tuple[float | None, bytes]]:
    le = data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    end = "<" if le else ">"
    if len(data) < 24:
        raise InputError("pcap header truncated", file=name, field="pcap header")
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0xFFFF
    off, n = 24, 0
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off : off + 16])
        n += 1
        off += 16
        if off + incl > len(data):
            raise InputError("packet truncated", file=name, row=n, field="pcap packet")
        payload = _udp_payload(data[off : off + incl], linktype)
        off += incl
        if payload is not None:
            yield sec + frac * (1e-9 if nano else 1e-6), payload


def _pcapng_payloads(data: bytes, name: str) -> Iterator[tuple[float | None, bytes]]:
    off, end, n = 0, "<", 0
    links: list[int] = []
    while off + 12 <= len(data):
        if data[off : off + 4] == b"\x0a\x0d\x0d\x0a":
            end = "<" if data[off + 8 : off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        btype, blen = struct.unpack(end + "II", data[off : off + 8])
        if blen < 12 or off + blen > len(data):
            raise InputError("block truncated", file=name, row=n + 1, field="pcapng block")
        body = data[off + 8 : off + blen - 4]
        if btype == 1:  # interface description
            links.append(struct.unpack(end + "H", body[:2])[0])
        elif btype == 6:  # enhanced packet
            n += 1
            iface, hi, lo, cap = struct.unpack(end + "IIII", body[:16])
            payload = _udp_payload(body[20 : 20 + cap], links[iface] if iface < len(links) else 1)
            if payload is not None:
                yield ((hi << 32) | lo) * 1e-6, payload
        elif btype == 3:  # simple packet
            n += 1
            payload = _udp_payload(body[4:], links[0] if links else 1)
            if payload is not None:
                yield None, payload
        off += blen


def _udp_payload(frame: bytes, linktype: int) -> bytes | None:
    """The UDP payload of a captured frame, or None when it is not UDP over IP."""
    if linktype == 1:  # Ethernet, possibly VLAN-tagged
        off, etype = 14, int.from_bytes(frame[12:14], "big")
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype, off = int.from_bytes(frame[off + 2 : off + 4], "big"), off + 4
    elif linktype == 113:  # Linux cooked
        off, etype = 16, int.from_bytes(frame[14:16], "big")
    elif linktype == 276:  # Linux cooked v2
        off, etype = 20, int.from_bytes(frame[0:2], "big")
    elif linktype == 0:  # BSD loopback
        off, etype = 4, 0x0800 if frame[:1] in (b"\x02", b"\x00") else 0x86DD
    elif linktype in (12, 14, 101):  # raw IP
        off, etype = 0, 0x0800 if frame[:1] and frame[0] >> 4 == 4 else 0x86DD
    else:
        return None
    ip = frame[off:]
    if etype == 0x0800 and len(ip) >= 20:
        if ip[9] != 17 or int.from_bytes(ip[6:8], "big") & 0x3FFF:  # not UDP, or fragment
            return None
        udp = ip[(ip[0] & 15) * 4 :]
    elif etype == 0x86DD and len(ip) >= 40:
        if ip[6] != 17:
            return None
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    return udp[8 : int.from_bytes(udp[4:6], "big")]
