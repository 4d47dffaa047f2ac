#!/usr/bin/env python3
"""Side by side: two result files of bench/run.py (e.g. the default ledger and ``make bench10``).

    python bench/compare.py bench/results/latest.json bench/results/latest-10x.json

Prints a Markdown table: each path's median time and query count at both sizes, the growth of
the time, and a verdict: *flat* (the path's work does not depend on the ledger's size: one
customer, one order, a page of 80), *linear* or *sub-linear* (grows no faster than the ledger)
and *super-linear* (grows faster: to be fixed or explained); queries that differ are marked.
"""

import argparse
import json
import sys
from pathlib import Path


def load(path):
    data = json.loads(Path(path).read_text())
    return data, {row["path"]: row for row in data["results"]}


def size(data):
    params = data.get("params") or {}
    return params.get("invoices", 0) + params.get("history_invoices", 0) + params.get("big_partner_items", 0)


def verdict(small, large, factor):
    """Growth of the median time against the growth of the ledger (``factor``)."""
    if not small or not large:
        return "-", "-"
    growth = large / small
    # time alone is noisy on a shared machine: a quarter of the ledger's growth is "flat"
    if growth < 1 + (factor - 1) / 4:
        return growth, "flat"
    if growth <= factor * 1.25:
        return growth, "linear" if growth > factor * 0.75 else "sub-linear"
    return growth, "super-linear"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("small", help="result file of the smaller ledger")
    p.add_argument("large", help="result file of the larger ledger")
    args = p.parse_args(argv)
    small_data, small = load(args.small)
    large_data, large = load(args.large)
    factor = size(large_data) / size(small_data) if size(small_data) else 0
    print(
        "ledger: %d → %d invoices (x%.2f)" % (size(small_data), size(large_data), factor),
        file=sys.stderr,
    )
    big = "%.0fx" % factor
    print("| path | ms (1x) | queries (1x) | ms (%s) | queries (%s) | growth | verdict |" % (big, big))
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, row in small.items():
        other = large.get(name)
        if other is None:
            continue
        a, b = row.get("median_ms"), other.get("median_ms")
        growth, text = verdict(a, b, factor)
        qa, qb = row.get("queries"), other.get("queries")
        queries_b = "-" if qb is None else str(qb)
        if qa is not None and qb is not None and qa != qb:
            queries_b += " (≠)"
        print(
            "| %s | %s | %s | %s | %s | %s | %s |"
            % (
                name,
                "-" if a is None else "%.1f" % a,
                "-" if qa is None else qa,
                "-" if b is None else "%.1f" % b,
                queries_b,
                "-" if growth == "-" else "x%.2f" % growth,
                text if a is not None and b is not None else (row.get("status") or "-"),
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
