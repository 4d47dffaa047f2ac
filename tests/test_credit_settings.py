from datetime import date, timedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestScorecardSettings(CreditControlCommon):
    def test_weights_and_thresholds_are_company_settings(self):
        self._invoice(900.0, days_ago=90)  # everything overdue, 90 days
        card = self.customer._get_credit_scorecard()
        weights = {f["key"]: f["weight"] for f in card["factors"]}
        self.assertEqual(
            weights, {"behaviour": 30, "overdue": 25, "usage": 15, "relationship": 10, "external": 20}
        )
        overdue = next(f for f in card["factors"] if f["key"] == "overdue")
        self.assertEqual(overdue["points"], 0.0)
        # the credit manager weighs the overdue share more and tolerates more of it
        self.company.write(
            {
                "credit_score_weight_overdue": 35,
                "credit_score_weight_relationship": 0,
                "credit_score_overdue_share_worst": 200,
            }
        )
        card = self.customer._get_credit_scorecard()
        overdue = next(f for f in card["factors"] if f["key"] == "overdue")
        self.assertEqual(overdue["weight"], 35)
        self.assertEqual(overdue["points"], 50.0, "100 % overdue is half-way to 200 %")
        self.assertEqual(card["score"], round(sum(f["contribution"] for f in card["factors"])))
        # weights are relative: doubled, the score stays
        score = card["score"]
        self.company.write(
            {
                f"credit_score_weight_{key}": 2 * self.company[f"credit_score_weight_{key}"]
                for key in ("behaviour", "overdue", "usage", "relationship", "external")
            }
        )
        self.assertEqual(self.customer._get_credit_scorecard()["score"], score)

    def test_settings_are_checked(self):
        with self.assertRaises(ValidationError) as cm:
            self.company.credit_score_weight_usage = -1
        self.assertIn("scorecard weights", str(cm.exception))
        for values in ({"credit_score_days_late_worst": 0}, {"credit_score_usage_best": 130}):
            with self.assertRaises(ValidationError) as cm:
                self.company.write(values)
            self.assertIn("scorecard thresholds", str(cm.exception))

    def test_settings_form_shows_them(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.credit_score_weight_behaviour, 30)
        settings.write({"credit_score_weight_behaviour": 20, "credit_score_weight_external": 30})
        settings.execute()
        self.assertEqual(self.company.credit_score_weight_external, 30)


@tagged("post_install", "-at_install")
class TestSettingsKeepTheirMeaning(CreditControlCommon):
    """A setting's allowed value 0 means 0, not a hidden default."""

    def test_review_lead_time_zero_means_on_the_day(self):
        self.company.credit_review_lead_days = 0
        self.customer.credit_review_date = self.today + timedelta(days=5)
        self.assertFalse(self.customer.credit_review_due, "0 days ahead: not due five days before")
        self.assertNotIn(self.customer, self.env["res.partner"].search([("credit_review_due", "=", True)]))
        self.customer.credit_review_date = self.today
        self.assertTrue(self.customer.credit_review_due)
        # the review cron: a limit ending in 5 days opens no review yet with 0 days lead time
        self.customer.write(
            {
                "credit_limit": 1000,
                "credit_limit_set": True,
                "credit_limit_date_end": self.today + timedelta(days=5),
            }
        )
        self.env["credit.check"]._cron_review_checks()
        reviews = self.env["credit.task"].search(
            [("partner_id", "=", self.customer.id), ("origin", "=", "review_due")]
        )
        self.assertFalse(reviews)
        self.company.credit_review_lead_days = 5
        self.env["credit.check"]._cron_review_checks()
        reviews = self.env["credit.task"].search(
            [("partner_id", "=", self.customer.id), ("origin", "=", "review_due")]
        )
        self.assertEqual(len(reviews), 1)

    def test_limitation_horizon_zero_means_ending_today(self):
        self._invoice(100.0, days_ago=(self.today - date(2023, 3, 1)).days)  # time-barred 31.12.2026
        self.company.credit_limitation_horizon_days = 0
        watch = self.env["account.move.line"]._credit_limitation_items
        self.assertFalse(watch(self.company, date=date(2026, 12, 30)))
        self.assertEqual(len(watch(self.company, date=date(2026, 12, 31))), 1)

        def worklist_line(day):
            Worklist = self.env["credit.worklist"].with_context(worklist_date=fields.Date.to_string(day))
            return Worklist.search([("partner_id", "=", self.customer.id)])

        # the worklist reads the same setting (it took 0 for 120 days before)
        self.assertEqual(worklist_line(date(2026, 12, 30)).points_limitation, 0)
        self.assertGreater(worklist_line(date(2026, 12, 31)).points_limitation, 0)
        self.company.credit_limitation_horizon_days = 120
        self.assertGreater(worklist_line(date(2026, 12, 30)).points_limitation, 0)


@tagged("post_install", "-at_install")
class TestWorklistPointsSettings(CreditControlCommon):
    def test_worklist_points_are_company_settings(self):
        self._invoice(1000.0, days_ago=31)

        def line():
            return self.env["credit.worklist"].search([("partner_id", "=", self.customer.id)])

        self.assertEqual((line().points_overdue, line().points_days, line().points_rating), (4, 10, 10))
        self.company.write(
            {
                "credit_worklist_overdue_per": 100.0,
                "credit_worklist_days_per": 1,
                "credit_worklist_rating_unrated": 0,
            }
        )
        self.assertEqual((line().points_overdue, line().points_days, line().points_rating), (10, 30, 0))
        self.customer.write(
            {"credit_score": 40, "credit_rating_id": self.env.ref("credit_control.credit_rating_c").id}
        )
        self.company.credit_worklist_rating_max = 50
        self.assertEqual(line().points_rating, 30, "(100 - 40) / (100 / 50)")
        with self.assertRaises(ValidationError) as cm:
            self.company.credit_worklist_days_per = 0
        self.assertIn("worklist points", str(cm.exception))
