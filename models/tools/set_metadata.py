"""Sets (or removes) metadata entries of a model file; the tensors stay byte for byte.

    /usr/bin/python3 -m models.tools.set_metadata MODEL.safetensors KEY=VALUE [KEY= ...] [--out OUT]

KEY=VALUE sets an entry, KEY= removes it.  The result is checked as every model file is
(models/FORMAT.md, p2p_safetensors.validate_metadata) before anything is written; without --out
the file is replaced in place (through a temporary file, so a failure leaves it as it was).

Why: some entries say how the engine should run a trained network rather than what the network
is - e.g. `resize_max_size`, chosen by measuring the finished model through pix2pix-cli - and
setting them must not touch the weights that were evaluated.
"""
import argparse
import json
import os
import struct
import sys

from models.tools import p2p_safetensors


def set_metadata(data, changes):
    """data: a model file's bytes; changes: {key: value, or None to remove} -> the new bytes."""
    p2p_safetensors.decode(data)  # a whole, valid file: header, tensors, data section
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n].decode("utf-8"))
    md = dict(header.get("__metadata__") or {})
    for k, v in changes.items():
        if v is None:
            md.pop(k, None)
        else:
            md[k] = v
    header["__metadata__"] = p2p_safetensors.validate_metadata(md)
    hjson = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    # The data section's offsets are relative to its start: it moves as a block.
    return struct.pack("<Q", len(hjson)) + hjson + data[8 + n:]


def parse_change(s):
    k, sep, v = s.partition("=")
    if not sep or not k:
        raise ValueError("%r: give KEY=VALUE (or KEY= to remove)" % s)
    return k, (v if v else None)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("changes", nargs="+", metavar="KEY=VALUE")
    ap.add_argument("--out", help="write here instead of replacing MODEL")
    args = ap.parse_args(argv)
    out = args.out or args.model
    try:
        changes = dict(parse_change(c) for c in args.changes)
        with open(args.model, "rb") as f:
            data = set_metadata(f.read(), changes)
        tmp = out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except (ValueError, OSError, p2p_safetensors.FormatError) as e:
        print("set_metadata: %s" % e, file=sys.stderr)
        return 2
    print("%s: %s" % (out, ", ".join("%s=%s" % (k, "(removed)" if v is None else v)
                                     for k, v in changes.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
