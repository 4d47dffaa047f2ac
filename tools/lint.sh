#!/usr/bin/env bash
# make lint: ruff (style, imports, bugbear, complexity) and pylint-odoo's mandatory checks
. "$(dirname "$0")/common.sh"
require_odoo; ensure_venv
cd "$ROOT"
rc=0
PY_FILES=$(git ls-files --cached --others --exclude-standard '*.py' | grep -v '^\.local/' || true)
echo "--- ruff"
"$VENV/bin/ruff" check $PY_FILES || rc=1
"$VENV/bin/ruff" format --check $PY_FILES || rc=1
echo "--- pylint-odoo"
MODULE_PY=$(echo "$PY_FILES" | grep -vE '^(bench|tools)/' || true)
"$VENV/bin/pylint" --rcfile=.pylintrc-mandatory $MODULE_PY || rc=1
exit $rc
