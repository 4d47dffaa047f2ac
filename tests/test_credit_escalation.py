from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestCreditEscalation(DunningCommon):
    @classmethod
    def default_env_context(cls):
        return {}  # tracking on: the manual level goes into the chatter

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "credit_escalation_credit_level_id": cls.second.id,
                "credit_escalation_agency_level_id": cls.final.id,
            }
        )
        cls.customer.write({"user_id": cls.sales_user.id})
        cls.agency = cls.env["res.partner"].create({"name": "Inkasso Nord GmbH", "is_company": True})

    def _profile(self, user=None):
        profile = self.customer.with_company(self.company)
        return profile.with_user(user) if user else profile

    def _escalation(self):
        profile = self._profile()
        profile.invalidate_recordset(["credit_escalation_level_id", "credit_escalation_owner"])
        return profile.credit_escalation_level_id, profile.credit_escalation_owner

    def test_level_follows_the_highest_dunning_level_of_open_invoices(self):
        self.assertEqual(self._escalation(), (self.env["credit.dunning.level"], "sales"))
        first = self._invoice(100.0, days_ago=40)
        second = self._invoice(200.0, days_ago=60)
        self._set_level(first, self.first, days_ago=10)
        self.assertEqual(self._escalation(), (self.first, "sales"), "below the credit team level")
        self._set_level(second, self.second, days_ago=5)
        self.assertEqual(self._escalation(), (self.second, "credit"), "from the credit team level on")
        self.assertEqual(
            self.contact.with_company(self.company).credit_escalation_owner,
            "credit",
            "contacts: their company",
        )
        self._set_level(first, self.final, days_ago=1)
        self.assertEqual(self._escalation(), (self.final, "agency"))
        self._pay(first)
        self.assertEqual(self._escalation(), (self.second, "credit"), "a paid invoice no longer counts")
        # searchable and readable per company in SQL
        Partner = self.env["res.partner"].with_company(self.company)
        self.assertIn(self.customer, Partner.search([("credit_escalation_owner", "=", "credit")]))
        self.assertNotIn(self.customer, Partner.search([("credit_escalation_owner", "=", "sales")]))
        self.assertIn(self.customer, Partner.search([("credit_escalation_level_id", "=", self.second.id)]))
        rows = self.env["credit.partner.escalation"].search(
            [("partner_id", "=", self.customer.id), ("company_id", "=", self.company.id)]
        )
        self.assertEqual((rows.level_id, rows.owner, rows.source), (self.second, "credit", "dunning"))
        groups = self.env["credit.partner.escalation"]._read_group(
            [("company_id", "=", self.company.id)], ["owner"], ["__count"]
        )
        self.assertIn(("credit", 1), groups)

    def test_manual_level_needs_a_credit_manager_and_a_reason(self):
        invoice = self._invoice(100.0, days_ago=40)
        self._set_level(invoice, self.first, days_ago=10)
        with self.assertRaises(AccessError) as caught:
            self._profile(self.sales_user).write(
                {"credit_escalation_manual_level_id": self.final.id, "credit_escalation_reason": "no"}
            )
        self.assertRegex(
            str(caught.exception),
            r"Only Credit Managers may change the credit profile of a customer \(Escalation Reason, Manual",
        )
        with self.assertRaises(AccessError) as caught:
            self._profile(self.collector).write(
                {"credit_escalation_manual_level_id": self.final.id, "credit_escalation_reason": "no"}
            )
        self.assertRegex(
            str(caught.exception),
            r"Only Credit Managers may change the credit profile of a customer \(Escalation Reason, Manual",
        )
        with self.assertRaisesRegex(ValidationError, "needs a reason"):
            self._profile(self.credit_manager).write({"credit_escalation_manual_level_id": self.final.id})
        self._profile(self.credit_manager).write(
            {
                "credit_escalation_manual_level_id": self.final.id,
                "credit_escalation_reason": "Insolvency application filed",
            }
        )
        self.assertEqual(self._escalation(), (self.final, "agency"), "the manual level replaces dunning")
        self.env.cr.precommit.run()
        self.customer.invalidate_recordset()
        tracked = self.customer.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name in ("credit_escalation_manual_level_id", "credit_escalation_reason")
        )
        self.assertEqual(len(tracked), 2, "level and reason are in the chatter")
        # a lower manual level also replaces it (e.g. after an agreement)
        self._profile(self.credit_manager).write(
            {"credit_escalation_manual_level_id": self.reminder.id, "credit_escalation_reason": "Agreement"}
        )
        self.assertEqual(self._escalation(), (self.reminder, "sales"))
        self._profile(self.credit_manager).write(
            {"credit_escalation_manual_level_id": False, "credit_escalation_reason": False}
        )
        self.assertEqual(self._escalation(), (self.first, "sales"))

    def test_policy_per_company(self):
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        levels_2 = self._create_levels(company_2)
        with self.assertRaisesRegex(ValidationError, "its own dunning levels"):
            company_2.credit_escalation_credit_level_id = self.second
        with self.assertRaisesRegex(ValidationError, "must not come before"):
            self.company.write(
                {
                    "credit_escalation_credit_level_id": self.final.id,
                    "credit_escalation_agency_level_id": self.second.id,
                }
            )
        company_2.credit_escalation_credit_level_id = levels_2[0]
        invoice = self._invoice(100.0, days_ago=40)
        self._set_level(invoice, self.first, days_ago=10)
        self.assertEqual(self._escalation(), (self.first, "sales"))
        self.company.credit_escalation_credit_level_id = self.first
        self.assertEqual(self._escalation(), (self.first, "credit"), "the company's policy decides")
        profile_2 = self.customer.with_company(company_2)
        self.assertFalse(profile_2.credit_escalation_level_id, "no open invoice in the other company")
        self.assertEqual(profile_2.credit_escalation_owner, "sales")
        # no policy: cases stay with sales
        self.company.write(
            {"credit_escalation_credit_level_id": False, "credit_escalation_agency_level_id": False}
        )
        self.assertEqual(self._escalation(), (self.first, "sales"))

    def test_agency_handover_makes_an_agency_case(self):
        invoice = self._invoice(100.0, days_ago=40)
        handover = self.env["credit.agency.handover"].create(
            {"partner_id": self.customer.id, "agency_id": self.agency.id, "move_ids": [(6, 0, invoice.ids)]}
        )
        self.assertEqual(self._escalation()[1], "sales")
        handover.action_hand_over()
        self.assertEqual(self._escalation(), (self.env["credit.dunning.level"], "agency"))
        handover.action_return()
        self.assertEqual(self._escalation()[1], "sales")

    def test_invoicing_user_reads_owner_and_level(self):
        user = new_test_user(
            self.env, "cc_invoice_only", groups="account.group_account_invoice", company_id=self.company.id
        )
        invoice = self._invoice(100.0, days_ago=40)
        self._set_level(invoice, self.second, days_ago=1)
        partner = self.customer.with_company(self.company).with_user(user)
        values = partner.read(["credit_escalation_level_id", "credit_escalation_owner"])[0]
        self.assertEqual(values["credit_escalation_owner"], "credit")
        self.assertEqual(values["credit_escalation_level_id"][0], self.second.id)
        self.assertNotIn("credit_task_count", partner.fields_get(), "no task access, no task counter")
        # a customer being created in the form (new record) computes without a query error
        new = self.env["res.partner"].with_company(self.company).new({"name": "Neu GmbH", "is_company": True})
        self.assertEqual(new.credit_escalation_owner, "sales")
        self.assertFalse(new.credit_escalation_level_id)
