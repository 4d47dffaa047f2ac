"""Split the module's test files into N shards of about equal run time (make test runs one
pytest process per shard, each on its own copy of the installed database).

    test_shards.py TESTS_DIR WEIGHTS N   -> N lines, each the test files of one shard
    test_shards.py --weights RESULTS     -> a new weights file from RESULTS/pytest*.xml (stdout;
                                            the OCA stage's pytest-oca.xml left out)

WEIGHTS (tools/test_weights.txt) holds "file seconds" lines measured in an earlier run; a file
not listed there (a new one) counts as the median. Every test_*.py file of TESTS_DIR is in exactly
one shard: the weights only balance the shards, they never select tests. Files are assigned
heaviest first to the lightest shard (longest processing time first).
"""

import statistics
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

HEADER = """\
# seconds per test file in make test (junit sum, setUpClass included); only balances the
# pytest shards of tools/test.sh (tools/test_shards.py), never selects tests. Regenerate after
# a full run: .local/venv/bin/python tools/test_shards.py --weights .local/test-results
"""


def read_weights(path):
    weights = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            weights[parts[0]] = float(parts[1])
    return weights


def shards(tests_dir, weights_path, count):
    files = sorted(p.name for p in Path(tests_dir).glob("test_*.py"))
    weights = read_weights(weights_path) if Path(weights_path).is_file() else {}
    default = statistics.median(weights.values()) if weights else 1.0
    result = [[] for _ in range(count)]
    totals = [0.0] * count
    for name in sorted(files, key=lambda name: (-weights.get(name, default), name)):
        lightest = totals.index(min(totals))
        result[lightest].append(name)
        totals[lightest] += weights.get(name, default)
    return result


def weights_from_junit(results):
    seconds = Counter()
    for junit in sorted(Path(results).glob("pytest*.xml")):
        if junit.name == "pytest-oca.xml":  # the OCA stage runs apart from the shards
            continue
        for case in ET.parse(junit).getroot().iter("testcase"):
            module = case.get("classname", "").split(".")
            if len(module) >= 2 and module[-2].startswith("test_"):
                seconds[f"{module[-2]}.py"] += float(case.get("time") or 0)
    return HEADER + "".join(f"{name} {secs:.0f}\n" for name, secs in seconds.most_common())


def main(argv):
    if len(argv) == 2 and argv[0] == "--weights":
        sys.stdout.write(weights_from_junit(argv[1]))
        return 0
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    tests_dir, weights_path, count = argv[0], argv[1], max(1, int(argv[2]))
    for shard in shards(tests_dir, weights_path, count):
        print(" ".join(shard))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
