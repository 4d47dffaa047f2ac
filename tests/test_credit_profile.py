from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditProfileAccess(CreditControlCommon):
    def test_sales_user_reads_status_but_cannot_write(self):
        self._set_limit(self.customer, 1000.0)
        self._invoice(400.0, days_ago=40)
        customer = self.customer.with_user(self.sales_user)
        values = customer.read(
            ["credit_limit", "credit_exposure", "credit_available", "credit_overdue_amount"]
        )[0]
        self.assertEqual(values["credit_exposure"], 400.0)
        self.assertEqual(values["credit_available"], 600.0)
        self.assertEqual(values["credit_overdue_amount"], 400.0)
        for vals in (
            {"credit_limit": 99999.0},
            {"credit_limit_set": False},
            {"credit_hold": True, "credit_hold_reason": "x"},
            {"credit_rating_id": self.env.ref("credit_control.credit_rating_a").id},
            {"credit_insured_limit": 5.0},
        ):
            with self.assertRaises(AccessError) as caught:
                customer.write(vals)
            self.assertRegex(
                str(caught.exception), r"Only Credit Managers may change the credit profile of a customer"
            )
        # other fields stay editable, and creating contacts under the company still works
        customer.write({"phone": "+49 30 1234567"})
        contact = (
            self.env["res.partner"]
            .with_user(self.sales_user)
            .create({"name": "New Buyer", "parent_id": self.customer.id})
        )
        # the profile stays on the company (not copied): the contact is limited through it
        self.assertEqual(contact.sudo().credit_limit, 0.0)
        self.assertEqual(contact._get_credit_exposure()["limit"], 1000.0)
        self.assertEqual(self.customer.credit_limit, 1000.0)

    def test_sales_user_rpc_like_write_with_forged_context(self):
        customer = self.customer.with_user(self.sales_user).with_context(credit_profile_write=True)
        with self.assertRaises(AccessError) as caught:
            customer.write({"credit_limit": 1.0})
        self.assertRegex(
            str(caught.exception),
            r"Only Credit Managers may change the credit profile of a customer \(Credit Limit\)\.",
        )

    def test_collector_cannot_write_manager_can(self):
        with self.assertRaises(AccessError) as caught:
            self.customer.with_user(self.collector).write({"credit_limit": 10.0})
        self.assertRegex(
            str(caught.exception),
            r"Only Credit Managers may change the credit profile of a customer \(Credit Limit\)\.",
        )
        self.customer.with_user(self.credit_manager).write({"credit_limit": 10.0, "credit_limit_set": True})
        self.assertEqual(self.customer.credit_limit, 10.0)
        # contacts share the company's profile, read through their commercial partner
        self.assertFalse(self.contact.credit_limit_set)
        self.assertEqual(self.contact._get_credit_exposure()["limit"], 10.0)
        self.assertEqual(self.contact.credit_limit_in_force, 10.0)

    def test_invalid_values(self):
        manager_view = self.customer.with_user(self.credit_manager)
        with self.assertRaises(ValidationError) as caught:
            manager_view.write({"credit_limit": -1.0})
        self.assertRegex(str(caught.exception), r"The credit limit of Muster GmbH cannot be negative\.")
        with self.assertRaises(ValidationError) as caught:
            manager_view.write({"credit_hold": True})
        self.assertRegex(str(caught.exception), r"Putting Muster GmbH on credit hold needs a reason\.")
        with self.assertRaises(ValidationError) as caught:
            manager_view.write({"credit_score": 101})
        self.assertRegex(str(caught.exception), r"The risk score of Muster GmbH must lie between 0 and 100\.")
        manager_view.write({"credit_hold": True, "credit_hold_reason": "Insolvency rumours"})
        self.assertTrue(self.customer.credit_hold)

    def test_insurance_flag(self):
        insurer = self.env["res.partner"].create({"name": "Allianz Trade", "is_company": True})
        self.customer.write({"credit_insurer_id": insurer.id, "credit_insured_limit": 5000.0})
        self._set_limit(self.customer, 8000.0)
        self.assertTrue(self.customer.credit_insurance_exceeded)
        self._set_limit(self.customer, 4000.0)
        self.assertFalse(self.customer.credit_insurance_exceeded)

    def test_review_due_search(self):
        with freeze_time("2026-03-01"):
            self.customer.write({"credit_review_date": "2026-03-20"})
            other = self.env["res.partner"].create({"name": "Later KG", "credit_review_date": "2026-09-01"})
            due = self.env["res.partner"].search([("credit_review_due", "=", True)])
            self.assertIn(self.customer, due)
            self.assertNotIn(other, due)
            self.assertTrue(self.customer.credit_review_due)


@tagged("post_install", "-at_install")
class TestCreditRatingTracking(CreditControlCommon):
    @classmethod
    def default_env_context(cls):
        return {}

    def test_rating_change_is_tracked_and_notified(self):
        self.customer.write({"user_id": self.sales_user.id, "credit_manager_id": self.credit_manager.id})
        rating_c = self.env.ref("credit_control.credit_rating_c")
        self.customer.with_user(self.credit_manager).write(
            {"credit_rating_id": rating_c.id, "credit_rating_source": "manual"}
        )
        self.env.cr.precommit.run()  # tracking values are written at commit time
        tracked = self.customer.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "credit_rating_id"
        )
        self.assertTrue(tracked, "the rating change is in the chatter")
        activities = self.customer.activity_ids
        self.assertEqual(set(activities.user_id.ids), {self.sales_user.id, self.credit_manager.id})
        self.assertIn("C", activities[0].summary)


@tagged("post_install", "-at_install")
class TestPaymentBehaviour(CreditControlCommon):
    def test_behaviour_from_paid_invoices(self):
        # on time: 1000 paid 0 days after due; late: 3000 paid 20 days after due (immediate terms)
        on_time = self._invoice(1000.0, days_ago=100)
        self._pay(on_time, days_after_invoice=0)
        late = self._invoice(3000.0, days_ago=60)
        self._pay(late, days_after_invoice=20)
        # outside the 12-month window: ignored
        old = self._invoice(5000.0, days_ago=500)
        self._pay(old, days_after_invoice=100)
        self.customer._refresh_payment_behaviour()
        self.assertEqual(self.customer.credit_paid_invoice_count, 2)
        self.assertAlmostEqual(self.customer.credit_avg_days_to_pay, 10.0)
        self.assertAlmostEqual(self.customer.credit_avg_days_late, (0 * 1000 + 20 * 3000) / 4000)
        self.assertAlmostEqual(self.customer.credit_late_share, 50.0)
        self.assertEqual(self.customer.credit_max_days_late, 20)
        self.assertEqual(self.customer.credit_behaviour_date, self.today)

    def test_dso(self):
        self._invoice(1000.0, days_ago=10)  # open
        paid = self._invoice(1000.0, days_ago=20)
        self._pay(paid)
        self.customer._refresh_payment_behaviour()
        window = (self.today - self.today.replace(year=self.today.year - 1)).days
        self.assertAlmostEqual(self.customer.credit_dso, 1000.0 / 2000.0 * window, places=1)

    def test_cron_refreshes_in_batches(self):
        customers = self.env["res.partner"].create(
            [{"name": f"Customer {i}", "is_company": True, "customer_rank": 1} for i in range(5)]
        )
        self._invoice(100.0, partner=customers[0], days_ago=30)
        self.env["res.partner"]._cron_refresh_payment_behaviour(batch_size=2)
        refreshed = customers.filtered(lambda p: p.credit_behaviour_date == self.today)
        self.assertGreaterEqual(len(refreshed), 0)
        for _i in range(10):
            self.env["res.partner"]._cron_refresh_payment_behaviour(batch_size=2)
        self.assertTrue(all(p.credit_behaviour_date == self.today for p in customers))
        self.assertTrue(customers[0].credit_rating_id, "the scorecard rated the customer")
        self.assertEqual(customers[0].credit_rating_source, "scorecard")

    def test_scorecard_factors_explain_the_score(self):
        self._set_limit(self.customer, 1000.0)
        self._invoice(900.0, days_ago=90)
        card = self.customer._get_credit_scorecard()
        self.assertEqual(sum(f["weight"] for f in card["factors"]), 100)
        self.assertEqual(card["score"], round(sum(f["contribution"] for f in card["factors"])))
        overdue = next(f for f in card["factors"] if f["key"] == "overdue")
        self.assertEqual(overdue["points"], 0.0, "everything overdue")
        self.assertIn("Overdue share", self.customer.credit_scorecard_html)

    def test_manual_rating_survives_refresh(self):
        rating_a = self.env.ref("credit_control.credit_rating_a")
        self.customer.write({"credit_rating_id": rating_a.id, "credit_rating_source": "manual"})
        self._invoice(900.0, days_ago=200)
        self.customer.action_refresh_credit_profile()
        self.assertEqual(self.customer.credit_rating_id, rating_a)


@tagged("post_install", "-at_install")
class TestCreditProfileLinks(CreditControlCommon):
    def test_sales_user_requests_a_limit_from_the_customer(self):
        action = self.contact.with_user(self.sales_user).action_request_credit_limit()
        self.assertEqual(action["res_model"], "credit.limit.request")
        self.assertEqual(action["context"]["default_partner_id"], self.customer.id)
        request = (
            self.env["credit.limit.request"]
            .with_user(self.sales_user)
            .with_context(**action["context"])
            .create({"amount_requested": 5000.0, "reason": "Framework contract signed"})
        )
        self.assertEqual(request.partner_id, self.customer)

    def test_check_count_on_the_customer(self):
        self.assertEqual(self.customer.credit_check_count, 0)
        self.env["credit.check"].create(
            {
                "partner_id": self.contact.id,
                "kind": "internal",
                "rating_id": self.env.ref("credit_control.credit_rating_b").id,
            }
        )
        self.customer.invalidate_recordset(["credit_check_count"])
        self.assertEqual(self.customer.with_user(self.sales_user).credit_check_count, 1)
        action = self.customer.action_view_credit_checks()
        self.assertEqual(self.env["credit.check"].search(action["domain"]).partner_id, self.customer)


@tagged("post_install", "-at_install")
class TestCreditProfileUpdate(CreditControlCommon):
    @classmethod
    def default_env_context(cls):
        return {}

    def test_manager_changes_limit_with_reason(self):
        wizard = (
            self.env["credit.profile.update"]
            .with_user(self.credit_manager)
            .with_context(default_partner_id=self.contact.id)
            .create({"reason": "Annual accounts 2025 reviewed"})
        )
        self.assertEqual(wizard.partner_id, self.customer)
        wizard.write(
            {
                "credit_limit_set": True,
                "credit_limit": 20000.0,
                "credit_rating_id": self.env.ref("credit_control.credit_rating_b").id,
            }
        )
        wizard.action_apply()
        self.assertEqual(self.customer.credit_limit, 20000.0)
        self.assertEqual(self.customer.credit_rating_source, "manual")
        self.assertIn("Annual accounts 2025 reviewed", self.customer.message_ids[0].body)
        self.env.cr.precommit.run()
        tracked = self.customer.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("credit_limit", tracked)

    def test_others_cannot_use_it(self):
        wizard = (
            self.env["credit.profile.update"]
            .with_context(default_partner_id=self.customer.id)
            .create({"reason": "x", "credit_limit_set": True, "credit_limit": 1.0})
        )
        with self.assertRaises(AccessError) as caught:
            wizard.with_user(self.collector).action_apply()
        self.assertRegex(
            str(caught.exception), r"Only Credit Managers may change the credit profile of a customer\."
        )
        self.assertFalse(self.customer.credit_limit_set)


@tagged("post_install", "-at_install")
class TestCreditProfileGerman(CreditControlCommon):
    def test_german_terms(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["credit_control"], ["de_DE"], overwrite=True)
        self.sales_user.lang = "de_DE"
        rating_a = self.env.ref("credit_control.credit_rating_a").with_context(lang="de_DE")
        self.assertEqual(rating_a.name, "Sehr niedriges Risiko")
        with self.assertRaises(AccessError) as error:
            self.customer.with_user(self.sales_user).with_context(lang="de_DE").write({"credit_limit": 1.0})
        self.assertIn("Nur Kreditmanager", str(error.exception))
