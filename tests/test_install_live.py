from odoo.tests import tagged

from odoo.addons.credit_control import _credit_install_on_live_ledger

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestInstallLiveLedger(CreditControlCommon):
    """Installing on a ledger with history: the install hook computes payment behaviour, score and
    rating of the existing customers, so the first screens show real figures."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.late_payer = cls.env["res.partner"].create({"name": "Spät GmbH", "is_company": True})
        # history: three invoices paid 10, 40 and 70 days after their (immediate) due date
        for days_ago, days_late in ((200, 10), (150, 40), (100, 70)):
            invoice = cls._invoice(1000.0, partner=cls.late_payer, days_ago=days_ago)
            cls._pay(invoice, days_after_invoice=days_late)
        # and one paid on time
        cls._pay(cls._invoice(500.0, days_ago=60))
        # as after a fresh install: nothing computed yet
        cls.env["res.partner"].with_context(tracking_disable=True).sudo().search(
            [("id", "in", (cls.late_payer | cls.customer).ids)]
        ).write(
            {
                "credit_behaviour_date": False,
                "credit_paid_invoice_count": 0,
                "credit_avg_days_late": 0.0,
                "credit_max_days_late": 0,
                "credit_rating_id": False,
                "credit_score": 0,
                "credit_rating_date": False,
            }
        )

    def test_hook_computes_behaviour_and_rating_of_existing_customers(self):
        _credit_install_on_live_ledger(self.env, batch_size=1)
        late, punctual = self.late_payer.with_company(self.company), self.customer.with_company(self.company)
        self.assertEqual(late.credit_paid_invoice_count, 3)
        self.assertEqual(late.credit_max_days_late, 70)
        self.assertAlmostEqual(late.credit_avg_days_late, 40.0, places=1)
        self.assertEqual(late.credit_behaviour_date, self.today)
        self.assertEqual(punctual.credit_paid_invoice_count, 1)
        self.assertEqual(punctual.credit_max_days_late, 0)
        for partner in (late, punctual):
            self.assertTrue(partner.credit_rating_id, "every customer is rated at install")
            self.assertEqual(partner.credit_rating_source, "scorecard")
            self.assertEqual(partner.credit_rating_date, self.today)
        self.assertLess(late.credit_score, punctual.credit_score, "the late payer scores lower")

    def test_hook_keeps_manual_ratings(self):
        rating = self.env["credit.rating"].search([], limit=1)
        self.customer.with_company(self.company).sudo().write(
            {"credit_rating_id": rating.id, "credit_rating_source": "manual"}
        )
        _credit_install_on_live_ledger(self.env)
        customer = self.customer.with_company(self.company)
        self.assertEqual(customer.credit_rating_source, "manual")
        self.assertEqual(customer.credit_rating_id, rating)
        self.assertEqual(customer.credit_paid_invoice_count, 1, "behaviour is still computed")
