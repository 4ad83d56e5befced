#!/usr/bin/env python3
"""ELF to UF2 for the RP2040, and a checker for the result (Python standard library only).

UF2 (Microsoft's USB flashing format) is a sequence of 512-byte blocks, each carrying up to
476 bytes for one flash address. The RP2040's boot ROM (BOOTSEL mode, USB mass storage)
accepts blocks of exactly 256 payload bytes at 256-byte-aligned flash addresses, tagged with
the RP2040 family ID. A block, all fields little-endian 32-bit:

    0    magic 0x0A324655 ("UF2\\n")     16   payload size (256)
    4    magic 0x9E5D5157                20   block number (0-based)
    8    flags (0x2000: family ID set)   24   number of blocks in the file
    12   target flash address            28   family ID (0xE48BFF56, RP2040)
    32   payload, zero-padded to 476 bytes
    508  magic 0x0AB16F30

usage:
    elf2uf2.py ELF -o OUT.uf2           convert the ELF's loadable contents
    elf2uf2.py --check UF2 [--elf ELF]  check a UF2 (and that it holds exactly the ELF)
"""

import argparse
import struct
import sys

MAGIC_START0 = 0x0A324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_FAMILY_ID = 0x00002000
RP2040_FAMILY = 0xE48BFF56
BLOCK = 512
PAYLOAD = 256
DATA_FIELD = 476
FLASH_START = 0x10000000
FLASH_END = FLASH_START + 2 * 1024 * 1024
RAM_START = 0x20000000
RAM_END = 0x20042000  # 264 KB: SRAM0-3 striped, then SRAM4 and SRAM5
BOOT2_LEN = 256
PT_LOAD = 1


class Bad(Exception):
    """The input is not what it must be (the message says how)."""


def elf_segments(data):
    """The (load address, bytes) of each loadable segment with contents, from a 32-bit
    little-endian ARM ELF. The load address (p_paddr) is where the bytes sit in flash:
    initialised data runs from RAM but is stored in flash, after the code."""
    if len(data) < 52 or data[:4] != b"\x7fELF":
        raise Bad("not an ELF file")
    if data[4] != 1 or data[5] != 1:
        raise Bad("not a 32-bit little-endian ELF")
    (machine,) = struct.unpack_from("<H", data, 18)
    if machine != 40:
        raise Bad(f"ELF machine {machine}, not ARM (40)")
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    if phentsize < 32 or phoff + phnum * phentsize > len(data):
        raise Bad("truncated program headers")
    out = []
    for i in range(phnum):
        p_type, p_offset, _vaddr, p_paddr, p_filesz = struct.unpack_from(
            "<5I", data, phoff + i * phentsize
        )
        if p_type != PT_LOAD or p_filesz == 0:
            continue
        if p_offset + p_filesz > len(data):
            raise Bad(f"segment {i} runs past the end of the file")
        out.append((p_paddr, data[p_offset : p_offset + p_filesz]))
    if not out:
        raise Bad("no loadable contents")
    return out


def flash_pages(segments):
    """{page address: 256 bytes}: the segments laid out in flash, gaps inside a page zero."""
    pages = {}
    written = set()
    for addr, blob in segments:
        if addr < FLASH_START or addr + len(blob) > FLASH_END:
            raise Bad(
                f"segment at {addr:#010x} (+{len(blob)} bytes) is not inside flash "
                f"{FLASH_START:#010x}..{FLASH_END:#010x}"
            )
        for k, b in enumerate(blob):
            a = addr + k
            if a in written:
                raise Bad(f"segments overlap at {a:#010x}")
            written.add(a)
            page = a - a % PAYLOAD
            pages.setdefault(page, bytearray(PAYLOAD))[a - page] = b
    return pages


def to_uf2(pages):
    """The UF2 file for `pages`, in address order."""
    total = len(pages)
    blocks = []
    for n, addr in enumerate(sorted(pages)):
        head = struct.pack(
            "<8I",
            MAGIC_START0,
            MAGIC_START1,
            FLAG_FAMILY_ID,
            addr,
            PAYLOAD,
            n,
            total,
            RP2040_FAMILY,
        )
        body = bytes(pages[addr]).ljust(DATA_FIELD, b"\0")
        blocks.append(head + body + struct.pack("<I", MAGIC_END))
    return b"".join(blocks)


def crc32_mpeg2(data):
    """CRC-32 as the boot ROM checks the second-stage bootloader (RP2040 datasheet, boot
    sequence): polynomial 0x04C11DB7, initial value 0xFFFFFFFF, bits not reflected, no final
    XOR."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def check(uf2, elf=None):
    """Check `uf2` as the RP2040 boot ROM needs it and as the firmware must be laid out;
    with `elf`, also that it holds exactly the ELF's flash contents. Returns a summary line."""
    if not uf2 or len(uf2) % BLOCK:
        raise Bad(f"{len(uf2)} bytes: not a whole number of {BLOCK}-byte blocks")
    total = len(uf2) // BLOCK
    pages = {}
    for n in range(total):
        b = uf2[n * BLOCK : (n + 1) * BLOCK]
        m0, m1, flags, addr, size, no, count, family = struct.unpack_from("<8I", b)
        (m_end,) = struct.unpack_from("<I", b, 508)
        where = f"block {n}"
        if (m0, m1, m_end) != (MAGIC_START0, MAGIC_START1, MAGIC_END):
            raise Bad(f"{where}: bad magic")
        if not flags & FLAG_FAMILY_ID or family != RP2040_FAMILY:
            raise Bad(f"{where}: family {family:#010x} (flags {flags:#x}), not RP2040")
        if size != PAYLOAD or addr % PAYLOAD:
            raise Bad(f"{where}: {size} bytes at {addr:#010x}; the RP2040 needs 256 at 256")
        if not FLASH_START <= addr < FLASH_END:
            raise Bad(f"{where}: address {addr:#010x} outside flash")
        if no != n or count != total:
            raise Bad(f"{where}: numbered {no} of {count}, expected {n} of {total}")
        if addr in pages:
            raise Bad(f"{where}: address {addr:#010x} written twice")
        if any(b[32 + PAYLOAD : 32 + DATA_FIELD]):
            raise Bad(f"{where}: padding after the payload is not zero")
        pages[addr] = b[32 : 32 + PAYLOAD]
    # The boot ROM runs the 256 bytes at the start of flash only if their CRC matches.
    boot2 = pages.get(FLASH_START)
    if boot2 is None:
        raise Bad("nothing at the start of flash: no second-stage bootloader")
    (stored,) = struct.unpack_from("<I", boot2, BOOT2_LEN - 4)
    if crc32_mpeg2(boot2[: BOOT2_LEN - 4]) != stored:
        raise Bad("the second-stage bootloader's CRC does not match")
    # Boot2 jumps through the vector table right after it: initial stack pointer, reset.
    vectors = pages.get(FLASH_START + BOOT2_LEN)
    if vectors is None:
        raise Bad("no vector table after the bootloader")
    sp, reset = struct.unpack_from("<2I", vectors)
    if not (RAM_START < sp <= RAM_END and sp % 8 == 0):
        raise Bad(f"initial stack pointer {sp:#010x} is not the top of a stack in RAM")
    if not reset & 1 or (reset & ~1) - (reset & ~1) % PAYLOAD not in pages:
        raise Bad(f"reset vector {reset:#010x} is not Thumb code in the image")
    if elf is not None:
        want = flash_pages(elf_segments(elf))
        if set(want) != set(pages) or any(bytes(want[a]) != pages[a] for a in want):
            raise Bad("the UF2 does not hold exactly the ELF's flash contents")
    lo, hi = min(pages), max(pages) + PAYLOAD
    return (
        f"{total} blocks, {total * PAYLOAD} bytes of flash at {lo:#010x}..{hi:#010x}, "
        f"family {RP2040_FAMILY:#010x} (RP2040), boot2 CRC ok, "
        f"SP {sp:#010x}, reset {reset:#010x}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="ELF to convert, or UF2 to check with --check")
    ap.add_argument("-o", "--output", help="UF2 to write")
    ap.add_argument("--check", action="store_true", help="check a UF2 instead")
    ap.add_argument("--elf", help="with --check: the ELF the UF2 must hold")
    a = ap.parse_args()
    try:
        with open(a.input, "rb") as f:
            data = f.read()
        if a.check:
            elf = None
            if a.elf:
                with open(a.elf, "rb") as f:
                    elf = f.read()
            print(f"{a.input}: {check(data, elf)}")
        else:
            if not a.output:
                ap.error("-o OUT.uf2 is needed to convert")
            uf2 = to_uf2(flash_pages(elf_segments(data)))
            with open(a.output, "wb") as f:
                f.write(uf2)
            print(f"{a.output}: {len(uf2) // BLOCK} blocks")
    except (Bad, OSError) as e:
        print(f"elf2uf2: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
