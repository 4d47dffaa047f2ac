"""Print one closing line "N passed, N failed" over lint, install and pytest results.

A skipped test counts as failed: a tour that Odoo skips (no browser, no websocket-client)
would otherwise pass unnoticed. Exit status 1 on any failure or when no test ran.
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(results):
    passed = failed = 0
    problems = []
    for status in sorted(results.glob("*.status")):
        word = status.read_text().split()[-1]
        if word == "passed":
            passed += 1
        else:
            failed += 1
            problems.append(status.stem)
    ran = 0
    # pytest.xml: the module's tests; pytest-oca.xml: the OCA migration stage
    for junit in sorted(results.glob("pytest*.xml")):
        for case in ET.parse(junit).getroot().iter("testcase"):
            ran += 1
            name = f"{case.get('classname')}.{case.get('name')}"
            outcome = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
            if not outcome:
                passed += 1
            else:
                failed += 1
                problems.append(f"{name} ({outcome[0]})")
    if not ran:
        failed += 1
        problems.append("pytest (no test ran)")
    for problem in problems:
        print(f"FAILED: {problem}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
