#!/usr/bin/python3
"""Search files for secrets: scan_secrets.py SECRETS_FILE PINS_CSV PATH...
SECRETS_FILE has "name hex" lines (key bytes). Each secret is searched raw,
as lower- and upper-case hex, and (keys) base64; each PIN raw and as hex.
Every regular file under each PATH (recursively) is read. Prints one line
per hit and a summary "scanned N files (B bytes), K needles: H hits"; exit 1
on any hit or when nothing was scanned."""
import base64, os, sys

def needles(secrets_file, pins):
    out = []
    for line in open(secrets_file):
        name, hx = line.split()
        raw = bytes.fromhex(hx)
        out += [(name + " raw", raw), (name + " hex", hx.lower().encode()), (name + " HEX", hx.upper().encode()),
                (name + " b64", base64.b64encode(raw)[:40])]
    for p in pins:
        out += [("PIN " + p, p.encode()), ("PIN %s hex" % p, p.encode().hex().encode())]
    return out

def files(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
        for root, _, names in os.walk(p):
            for n in names:
                f = os.path.join(root, n)
                if os.path.isfile(f):
                    yield f

def main():
    ns = needles(sys.argv[1], [p for p in sys.argv[2].split(",") if p])
    nfiles = nbytes = hits = 0
    for f in files(sys.argv[3:]):
        data = open(f, "rb").read()
        nfiles += 1
        nbytes += len(data)
        for name, n in ns:
            if n in data:
                hits += 1
                print("HIT: %s in %s at offset %d" % (name, f, data.find(n)))
    print("scanned %d files (%d bytes), %d needles: %d hits" % (nfiles, nbytes, len(ns), hits))
    return 1 if hits or nfiles == 0 else 0

sys.exit(main())
