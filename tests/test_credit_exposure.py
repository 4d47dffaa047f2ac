from odoo import Command
from odoo.tests import Form, tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditExposure(CreditControlCommon):
    def test_open_and_overdue_receivables(self):
        self._invoice(1000.0, days_ago=45)  # immediate term: 45 days overdue
        self._invoice(500.0, days_ago=2, term=self.term_30)  # not yet due
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["receivable"], 1500.0)
        self.assertEqual(exposure["overdue"], 1000.0)
        self.assertEqual(exposure["overdue_days"], 45)
        self.assertEqual(exposure["total"], 1500.0)
        self.assertIsNone(exposure["limit"], "no limit set means unlimited")
        self.assertIsNone(exposure["available"])
        self.assertFalse(exposure["over_limit"])

    def test_contacts_roll_up_to_the_company(self):
        self._invoice(300.0, partner=self.contact, days_ago=10)
        self._invoice(200.0, partner=self.customer, days_ago=1)
        self.assertEqual(self.customer._get_credit_exposure()["receivable"], 500.0)
        self.assertEqual(self.contact._get_credit_exposure()["receivable"], 500.0)
        self.assertEqual(self.contact.credit_exposure, 500.0)
        self.assertEqual(self.contact.credit_overdue_amount, 500.0)

    def test_customer_being_created_has_no_exposure(self):
        # a customer not saved yet (a form, "Create and edit" from an invoice): its credit
        # fields are computed without error, a new contact of a customer shows the customer's
        # exposure, an existing customer edited in a form keeps its own
        self._invoice(300.0, days_ago=10)
        new = self.env["res.partner"].new({"name": "New Customer", "is_company": True})
        self.assertEqual(new.credit_exposure, 0.0)
        self.assertFalse(new.credit_over_limit)
        self.assertFalse(new.credit_has_limit)
        contact = self.env["res.partner"].new({"name": "New Contact", "parent_id": self.customer.id})
        self.assertEqual(contact.credit_exposure, 300.0)
        edited = self.env["res.partner"].new({"name": "Renamed"}, origin=self.customer)
        self.assertEqual(edited.credit_exposure, 300.0)
        with Form(self.env["res.partner"]) as form:
            form.name = "Created in a form"
        self.assertEqual(form.record.credit_exposure, 0.0)

    def test_partial_payment_credit_note_and_unreconciled_payment(self):
        invoice = self._invoice(1000.0, days_ago=20)
        self._pay(invoice, amount=400.0)
        self._invoice(150.0, move_type="out_refund", days_ago=5)
        self._unreconciled_payment(50.0)
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["receivable"], 1000.0 - 400.0 - 150.0 - 50.0)
        # the overdue amount holds only past-due debit items, not the credits
        self.assertEqual(exposure["overdue"], 600.0)

    def test_paid_invoice_is_not_exposure(self):
        invoice = self._invoice(800.0, days_ago=20)
        self._pay(invoice)
        self.assertEqual(self.customer._get_credit_exposure()["total"], 0.0)

    def test_foreign_currency_converted_at_todays_rate(self):
        other = self.setup_other_currency("EUR", rates=[("2016-01-01", 3.0), ("2017-01-01", 2.0)])
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": "2016-06-01",
                "currency_id": other.id,
                "invoice_payment_term_id": self.immediate.id,
                "invoice_line_ids": [
                    Command.create({"name": "x", "price_unit": 300.0, "tax_ids": [Command.clear()]})
                ],
            }
        )
        invoice.action_post()
        self.assertEqual(invoice.amount_residual_signed, 100.0, "booked at the historical rate 3.0")
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["receivable"], 150.0, "300 EUR at today's rate 2.0")
        self.assertEqual(exposure["overdue"], 150.0)

    def test_draft_invoices_and_orders_partly_invoiced(self):
        self._invoice(70.0, post=False)
        product = self.product_a
        product.invoice_policy = "order"
        order = self.env["sale.order"].create(
            {
                "partner_id": self.contact.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": 10,
                            "price_unit": 100.0,
                            "tax_id": [Command.clear()],
                        }
                    ),
                ],
            }
        )
        order.action_confirm()
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["draft_invoices"], 70.0)
        self.assertEqual(exposure["uninvoiced_orders"], 1000.0)
        # invoice 4 of 10 units: the draft moves from "orders" to "draft invoices", then posted
        invoice = order._create_invoices()
        invoice.invoice_line_ids.quantity = 4
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["uninvoiced_orders"], 600.0)
        self.assertEqual(exposure["draft_invoices"], 470.0)
        invoice.action_post()
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["uninvoiced_orders"], 600.0)
        self.assertEqual(exposure["draft_invoices"], 70.0)
        self.assertEqual(exposure["receivable"], 400.0)
        self.assertEqual(exposure["total"], 1070.0)
        # the order itself can be left out (the order being checked is not counted twice)
        self.assertEqual(self.customer._get_credit_exposure(exclude_orders=order)["uninvoiced_orders"], 0.0)

    def test_order_with_taxes_counts_taxes(self):
        tax = self.company_data["default_tax_sale"]
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "product_uom_qty": 1,
                            "price_unit": 100.0,
                            "tax_id": [Command.set(tax.ids)],
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        self.assertAlmostEqual(self.customer._get_credit_exposure()["uninvoiced_orders"], order.amount_total)
        self.assertGreater(order.amount_total, 100.0)

    def test_limit_available_and_usage(self):
        self._set_limit(self.customer, 1000.0)
        self._invoice(1200.0, days_ago=1, term=self.term_30)
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["limit"], 1000.0)
        self.assertEqual(exposure["available"], -200.0)
        self.assertAlmostEqual(exposure["usage"], 120.0)
        self.assertTrue(exposure["over_limit"])
        self.assertTrue(self.customer.credit_over_limit)
        self.assertTrue(self.contact.credit_over_limit)
        self.assertEqual(self.customer.credit_available, -200.0)

    def test_zero_limit_means_prepayment_only(self):
        self._set_limit(self.customer, 0.0)
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["limit"], 0.0)
        self.assertFalse(exposure["over_limit"])
        self._invoice(10.0, term=self.term_30)
        self.assertTrue(self.customer._get_credit_exposure()["over_limit"])

    def test_search_over_limit(self):
        other = self.env["res.partner"].create({"name": "Solvent AG", "is_company": True})
        self._set_limit(self.customer, 100.0)
        self._set_limit(other, 100000.0)
        self._invoice(500.0, term=self.term_30)
        self._invoice(500.0, partner=other, term=self.term_30)
        over = self.env["res.partner"].search([("credit_over_limit", "=", True)])
        self.assertIn(self.customer, over)
        self.assertIn(self.contact, over)
        self.assertNotIn(other, over)
        not_over = self.env["res.partner"].search([("credit_over_limit", "=", False)])
        self.assertIn(other, not_over)
        self.assertNotIn(self.customer, not_over)

    def test_two_companies_different_limits(self):
        company_2 = self.setup_other_company()["company"]
        self._set_limit(self.customer, 1000.0)
        self._set_limit(self.customer, 50.0, company=company_2)
        self._invoice(500.0, term=self.term_30)
        in_1 = self.customer.with_company(self.company)._get_credit_exposure()
        in_2 = self.customer.with_company(company_2)._get_credit_exposure()
        self.assertEqual(in_1["limit"], 1000.0)
        self.assertEqual(in_2["limit"], 50.0)
        self.assertEqual(in_1["receivable"], 500.0)
        self.assertEqual(in_2["receivable"], 0.0, "exposure is per company")
        self.assertFalse(in_2["over_limit"])

    def test_query_count_constant(self):
        """One partner or thirty: the same handful of queries (ACL caches warmed first)."""
        partners = self.env["res.partner"].create([{"name": f"P{i}", "is_company": True} for i in range(30)])
        for partner in partners[:5]:
            self._invoice(100.0, partner=partner, days_ago=10)
        self.customer._get_credit_exposure()
        self.env.invalidate_all()
        with self.assertQueryCount(10):
            self.customer._get_credit_exposure()
        self.env.invalidate_all()
        with self.assertQueryCount(10):
            partners._get_credit_exposures()
        self.env.invalidate_all()
        with self.assertQueryCount(10):
            values = partners.read(["credit_exposure", "credit_overdue_amount", "credit_available"])
        self.assertEqual(sum(v["credit_exposure"] for v in values), 500.0)

    def test_overdue_days_ignores_future_and_credits(self):
        self._invoice(100.0, days_ago=3)
        self._invoice(100.0, move_type="out_refund", days_ago=90)
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["overdue_days"], 3)
        self.assertEqual(exposure["overdue"], 100.0)
        self.assertEqual(self.customer.credit_overdue_days, 3)
        self.assertEqual(exposure["receivable"], 0.0)
