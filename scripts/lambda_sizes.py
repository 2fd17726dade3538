#!/usr/bin/env python3
"""Zips each built bootstrap (target/lambda/<arch>/<bin>/bootstrap -> bootstrap.zip, as Lambda
deploys it) and prints a Markdown table of binary and zip sizes."""
import os
import sys
import zipfile

root = sys.argv[1] if len(sys.argv) > 1 else "target/lambda"
rows = []
for arch in sorted(os.listdir(root)):
    adir = os.path.join(root, arch)
    if not os.path.isdir(adir):
        continue
    for name in sorted(os.listdir(adir)):
        boot = os.path.join(adir, name, "bootstrap")
        if not os.path.isfile(boot):
            continue
        zpath = os.path.join(adir, name, "bootstrap.zip")
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(boot, "rb") as f:
                z.writestr(info, f.read())
        rows.append((name, arch, os.path.getsize(boot), os.path.getsize(zpath)))
if not rows:
    sys.exit(f"no bootstraps under {root}: run `make lambdas`")
print("| Lambda | arch | bootstrap (MiB) | zip (MiB) |")
print("| --- | --- | ---: | ---: |")
for name, arch, b, z in rows:
    print(f"| {name} | {arch} | {b / 2**20:.2f} | {z / 2**20:.2f} |")
