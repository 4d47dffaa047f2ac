from datetime import date
from pathlib import Path
from unittest.mock import MagicMock, patch

import requests

from odoo.tests import tagged
from odoo.tools import format_date

from .dunning_common import DunningCommon

DATA = Path(__file__).parent / "data" / "bundesbank_base_rate_sdmx.xml"
GET = "odoo.addons.credit_control.models.credit_base_rate.requests.get"


@tagged("post_install", "-at_install")
class TestBaseRateUpdate(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base_rate = cls.env["credit.base.rate"]

    def _rates_from(self, day):
        return self.base_rate.search([("date_from", ">=", day)])

    def test_missing_message_per_half_year(self):
        """Half-years start on 1 January and 1 July: the table's newest rate (2026-01-01) covers
        the first half of 2026 only."""
        self._rates_from(date(2026, 7, 1)).unlink()
        self.assertFalse(self.base_rate._current_rate_missing_message(date(2026, 6, 30)))
        self.assertFalse(self.base_rate._current_rate_missing_message(date(2025, 8, 1)))
        message = self.base_rate._current_rate_missing_message(date(2026, 7, 1))
        self.assertIn(format_date(self.env, date(2026, 7, 1)), message)
        self.assertIn(format_date(self.env, date(2026, 1, 1)), message)
        self.assertIn("1.27", message)
        # in the reader's language: German dates and decimal comma
        german = self.base_rate.with_context(lang="de_DE")._current_rate_missing_message(date(2026, 7, 1))
        self.assertIn("01.07.2026", german)
        self.assertIn("1,27 %", german)
        self.assertTrue(self.base_rate._current_rate_missing_message(date(2027, 1, 15)))
        # recorded (test value): no warning for that half-year
        self.base_rate.create({"date_from": date(2026, 7, 1), "rate": 1.27, "note": "test"})
        self.assertFalse(self.base_rate._current_rate_missing_message(date(2026, 12, 31)))

    def test_warning_on_dunning_run_settings_and_dashboard(self):
        today = self.today
        self._rates_from(self.base_rate._half_year_start(today)).unlink()
        run = self.run_model.new({"date": today})
        self.assertIn("no rate for the half-year", run.base_rate_warning)
        settings = self.env["res.config.settings"].create({})  # the settings are for administrators
        self.assertTrue(settings.credit_base_rate_warning)
        dashboard = self.env["credit.dashboard"]
        self.assertTrue(dashboard.with_user(self.credit_manager).get_data()["base_rate_warning"])
        self.assertFalse(dashboard.with_user(self.collector).get_data()["base_rate_warning"])

    def test_interest_past_last_known_rate_flagged_on_proposal(self):
        half_year = self.base_rate._half_year_start(self.today)
        self._rates_from(half_year).unlink()
        invoice = self._invoice(1000.0, days_ago=60)
        self._set_level(invoice, self.first, days_ago=14)
        line = self._line_of(self._propose(), invoice)
        self.assertTrue(line.interest_amount > 0)
        self.assertIn("uses the last known base rate", line.interest_rate_note)
        self.base_rate.create({"date_from": half_year, "rate": 1.27, "note": "test"})
        line.invalidate_recordset(["interest_rate_note"])
        self.assertFalse(line.interest_rate_note)

    def _response(self, content=None, error=None):
        response = MagicMock()
        response.content = content
        response.raise_for_status.side_effect = error
        return response

    def test_cron_adds_missing_half_year_rates(self):
        self._rates_from(date(2025, 7, 1)).unlink()
        with patch(GET, return_value=self._response(DATA.read_bytes())) as get:
            added = self.base_rate._cron_update_from_bundesbank()
        self.assertEqual(get.call_count, 1)
        self.assertIn("BBK01/SU0115", get.call_args.args[0])
        self.assertEqual(
            [(rate.date_from, rate.rate) for rate in added.sorted("date_from")],
            [(date(2025, 7, 1), 1.27), (date(2026, 1, 1), 1.27)],
        )
        self.assertIn("Bundesbank", added[0].note)
        # nothing new: nothing added
        with patch(GET, return_value=self._response(DATA.read_bytes())):
            self.assertFalse(self.base_rate._cron_update_from_bundesbank())

    def test_cron_failed_fetch_changes_nothing(self):
        self._rates_from(date(2026, 1, 1)).unlink()
        before = self.base_rate.search([]).mapped(lambda rate: (rate.date_from, rate.rate))
        failures = [
            patch(GET, side_effect=requests.ConnectionError("offline")),
            patch(GET, return_value=self._response(b"", error=requests.HTTPError("503"))),
            patch(GET, return_value=self._response(b"<html>maintenance</html>")),
            patch(GET, return_value=self._response(b"not xml at all")),
        ]
        for failure in failures:
            with failure, self.assertLogs("odoo.addons.credit_control.models.credit_base_rate", "WARNING"):
                self.assertFalse(self.base_rate._cron_update_from_bundesbank())
        self.assertEqual(self.base_rate.search([]).mapped(lambda rate: (rate.date_from, rate.rate)), before)

    def test_cron_is_inactive_by_default(self):
        cron = self.env.ref("credit_control.ir_cron_credit_base_rate_update")
        self.assertFalse(cron.active)
        self.assertEqual(cron.code.strip(), "model._cron_update_from_bundesbank()")
