"""pytest plugin for make test (``-p pytest_odoo_test_mode``, tools/ on PYTHONPATH).

pytest-odoo imports ``odoo.tests`` right after it parsed the Odoo configuration, where
``test_enable`` is False (Odoo derives it from ``--test-tags``, not from the configuration file).
``odoo.tests.common`` then logs at ERROR level, with a long stack, "Importing test framework,
avoid importing from business modules and when not running in test mode", which is meant for
business code that imports the test framework outside tests, not for a test run.

This plugin imports ``odoo.tests`` first, while it is loaded (before pytest-odoo's
``pytest_cmdline_main``), with ``test_enable`` set for that import only: Odoo logs the import
at INFO as under its own test runner. Nothing else changes: pytest-odoo parses the
configuration again right after, so ``test_enable`` is what it was before (the suite renders
real PDFs and commits nothing either way), and every other message is logged as before.
"""

from odoo.tools import config

_before = config["test_enable"]
config["test_enable"] = True
try:
    import odoo.tests  # noqa: F401
finally:
    config["test_enable"] = _before
