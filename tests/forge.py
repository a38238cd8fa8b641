#!/usr/bin/env python3
"""Forge malformed APK files for drydock's bad-input tests.

usage: forge.py KIND OUT

Every file is built here, from scratch, so that no binary fixture is
committed. KINDs: dotdot, absolute, oversize, garbage-pkginfo,
bomb-data, bomb-control, bomb-declared, hardlink-escape, extra-segment, bad-member-sha1.
"""
import gzip
import hashlib
import io
import sys
import tarfile
import zlib

GIB = 1 << 30


def member(name, data=b"", kind=tarfile.REGTYPE, link="", pax=None):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.mode = 0o644
    ti.linkname = link
    ti.mtime = 1700000000
    if pax:
        ti.pax_headers = pax
    fmt = tarfile.PAX_FORMAT if pax else tarfile.USTAR_FORMAT
    buf = ti.tobuf(fmt, "utf-8", "surrogateescape")
    if ti.size:
        buf += data + b"\0" * ((512 - len(data) % 512) % 512)
    return buf


def gz(raw):
    return gzip.compress(raw, compresslevel=9, mtime=0)


def pkginfo(size=100, extra=""):
    return ("pkgname = forged\npkgver = 1.0-r0\narch = x86_64\n"
            "size = %d\n%s" % (size, extra)).encode()


def package(data_members, info=None, end=True):
    ctl = gz(member(".PKGINFO", info if info is not None else pkginfo()))
    raw = b"".join(data_members) + (b"\0" * 1024 if end else b"")
    return ctl + gz(raw)


def zero_bomb(total, prefix=b""):
    """A gzip member whose deflate data expands to `prefix` and then
    `total` zero bytes.

    Blocks after a full flush do not refer back, so one compressed 1 MiB
    block can be repeated; the reader must give up long before the end
    (the trailer is left out on purpose)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = 1 << 20
    start = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH) if prefix else b""
    one = c.compress(b"\0" * chunk) + c.flush(zlib.Z_FULL_FLUSH)
    two = c.compress(b"\0" * chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert one == two, "deflate blocks differ; cannot repeat"
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03"
    return header + start + one * (total // chunk)


def forge(kind):
    if kind == "dotdot":
        return package([member("../evil", b"x")])
    if kind == "absolute":
        return package([member("/etc/evil", b"x")])
    if kind == "oversize":
        return package([member("big", b"y" * 5000)], pkginfo(size=10))
    if kind == "garbage-pkginfo":
        return package([member("a", b"x")],
                       pkginfo(extra="this line is garbage\n"))
    if kind == "bomb-data":
        ctl = gz(member(".PKGINFO", pkginfo(size=100)))
        return ctl + zero_bomb(10 * GIB)
    if kind == "bomb-control":
        # a valid .PKGINFO, then 10 GiB of zeros in the same gzip member
        return zero_bomb(10 * GIB, member(".PKGINFO", pkginfo()))
    if kind == "bomb-declared":
        # a .PKGINFO member that declares 10 GiB
        ti = tarfile.TarInfo(".PKGINFO")
        ti.size = 10 * GIB
        return zero_bomb(10 * GIB, ti.tobuf(tarfile.GNU_FORMAT))
    if kind == "hardlink-escape":
        return package([member("a", kind=tarfile.LNKTYPE, link="../../etc/shadow")])
    if kind == "extra-segment":
        return package([member("a", b"x")]) + gz(b"\0" * 1024)
    if kind == "bad-member-sha1":
        pax = {"APK-TOOLS.checksum.SHA1": hashlib.sha1(b"other").hexdigest()}
        return package([member("a", b"x", pax=pax)])
    raise SystemExit("forge.py: unknown kind %r" % kind)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    with open(sys.argv[2], "wb") as f:
        f.write(forge(sys.argv[1]))
