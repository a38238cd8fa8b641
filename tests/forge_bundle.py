#!/usr/bin/env python3
"""Damage a drydock bundle (a tar file) in one specific way.

usage: forge_bundle.py KIND IN.tar OUT.tar

KINDs: extra, missing, dotdot, symlink, flip-member, flip-manifest,
flip-sig, oversize, reorder. The manifest and its signature are kept as
they are, so each damage must be caught by the importer's own checks.
"""
import io
import sys
import tarfile


def flip(data, at=None):
    b = bytearray(data)
    i = len(b) // 2 if at is None else at
    b[i] ^= 0x01
    return bytes(b)


def main(kind, src, dst):
    with tarfile.open(src) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
    first_apk = next(i for i, (m, _) in enumerate(members) if m.name.endswith(".apk"))
    out = []
    for i, (m, data) in enumerate(members):
        if kind == "flip-member" and i == first_apk:
            data = flip(data)
        elif kind == "flip-manifest" and m.name == "manifest.json":
            data = data.replace(b'"stable"', b'"stablf"', 1)
        elif kind == "flip-sig" and m.name == "manifest.json.sig":
            data = flip(data, len(data) - 10)
        elif kind == "oversize" and i == first_apk:
            data = data + b"\0" * 10
        out.append((m, data))
    if kind == "missing":
        out = out[:-1]
    if kind == "reorder":
        out[0], out[1] = out[1], out[0]
    with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as t:
        for m, data in out:
            if data is not None:
                m.size = len(data)
                t.addfile(m, io.BytesIO(data))
            else:
                t.addfile(m)
        if kind in ("extra", "dotdot"):
            m = tarfile.TarInfo("packages/extra.apk" if kind == "extra" else "../evil.apk")
            m.size = 5
            t.addfile(m, io.BytesIO(b"extra"))
        if kind == "symlink":
            m = tarfile.TarInfo("packages/link.apk")
            m.type = tarfile.SYMTYPE
            m.linkname = "/etc/passwd"
            t.addfile(m)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
