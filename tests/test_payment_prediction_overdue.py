from .common import CreditControlCommon


class TestPaymentPredictionOverdue(CreditControlCommon):
    """An invoice still unpaid more than 30 days after its due date is paid more than 30 days
    late, whatever the customer's history says; the rule's explanation speaks the user's
    language (decimal comma in German)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("de_DE")
        # two invoices paid 3 and 4 days late: too little history for a model, rule 3.5 days
        for days_ago, late in ((200, 3), (150, 4)):
            cls._pay(cls._invoice(100.0, days_ago=days_ago), days_after_invoice=late)
        cls.overdue_90 = cls._invoice(100.0, days_ago=90)
        cls.overdue_20 = cls._invoice(100.0, days_ago=20)
        cls.model = cls.env["credit.payment.model"]._get_for_company(cls.company)
        cls.model.with_company(cls.company)._train_and_predict()

    def test_overdue_beyond_30_days_is_late_for_sure(self):
        self.assertEqual(self.overdue_90.credit_prediction_source, "rule")
        self.assertEqual(self.overdue_90.credit_predicted_late_probability, 1.0)
        # the customer never paid 30 days late: the rule's share for an item not that late yet
        self.assertEqual(self.overdue_20.credit_predicted_late_probability, 0.0)

    def test_rule_explanation_in_the_users_language(self):
        english = self.overdue_20.with_context(lang="en_US").credit_prediction_explanation
        german = self.overdue_20.with_context(lang="de_DE").credit_prediction_explanation
        self.assertIn("3.5", english)
        self.assertIn("paid invoices known: 2", english)
        self.assertIn("3,5", german)
