from datetime import date, timedelta

from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditForecast(CreditControlCommon):
    def test_predicted_dates_and_band(self):
        # a customer who pays 10 days late on average, at worst 30 days late
        self.customer.sudo().write({"credit_avg_days_late": 10.0, "credit_max_days_late": 30})
        today = self.today
        monday = today - timedelta(days=today.weekday())
        self._invoice(700.0, days_ago=0, term=self.term_30)  # due in 30 days
        self._invoice(200.0, days_ago=60)  # overdue: predicted today at best
        forecast = self.env["credit.forecast"]._compute(today)
        weeks = forecast["weeks"]

        def week_of(day):
            return (day - monday).days // 7

        due = today + timedelta(days=30)
        self.assertEqual(weeks[0]["best"], 200.0, "overdue items are expected at once at best")
        self.assertEqual(weeks[week_of(due)]["best"], 700.0)
        self.assertEqual(weeks[week_of(due + timedelta(days=10))]["expected"], 700.0)
        self.assertEqual(weeks[week_of(due + timedelta(days=30))]["worst"], 700.0)
        for key in ("best", "expected", "worst"):
            self.assertEqual(sum(w[key] for w in weeks), 900.0, key)
            self.assertEqual(sum(m[key] for m in forecast["months"]), 900.0, key)
        self.assertEqual(forecast["months"][0]["start"], date(today.year, today.month, 1))
        self.assertEqual(len(weeks), 13)
        self.assertEqual(len(forecast["months"]), 6)
