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
echo "--- long functions and files (a report, not a gate: tools/long_methods.py)"
"$VENV/bin/python" "$ROOT/tools/long_methods.py" "$ROOT"
echo "--- i18n"
command -v msgfmt >/dev/null 2>&1 || die "msgfmt not found: install gettext (apt-get install gettext)"
# the German translation is complete and well-formed (make i18n refreshes it from the code)
if ! msgfmt --check -o /dev/null "$ROOT/i18n/de.po"; then rc=1; fi
untranslated=$(msgattrib --untranslated --no-obsolete "$ROOT/i18n/de.po" | grep -c '^msgid ' || true)
if [ "${untranslated:-0}" -gt 1 ]; then
    echo "i18n/de.po: $(( untranslated - 1 )) untranslated entries (run make i18n and translate them)"
    msgattrib --untranslated --no-obsolete "$ROOT/i18n/de.po" | grep '^msgid ' | tail -n +2 | head -20
    rc=1
fi
exit $rc
