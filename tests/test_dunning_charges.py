"""Dunning charges (interest, §288(5) flat fee, charge invoices) and access to dunning records."""

from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningCharges(DunningCommon):
    """Per-company flat fee and interest points, and interest and fees invoiced separately."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base_rate = cls.env["credit.base.rate"]
        cls.eur = cls.env.ref("base.EUR")

    def _second_level_run(self, amount=1000.0, partner=None, days_ago=60):
        invoice = self._invoice(amount, partner=partner, days_ago=days_ago)
        self._set_level(invoice, self.first, days_ago=14)
        return invoice, self._propose()

    def test_flat_fee_per_company(self):
        self.company.credit_dunning_flat_fee = 50.0
        invoice, run = self._second_level_run()
        self.assertAlmostEqual(
            self._line_of(run, invoice).flat_fee_amount,
            self.eur._convert(50.0, self.currency, self.company, self.today),
        )
        run._action_cancel("Proposal discarded")
        self.company.credit_dunning_flat_fee = 0.0
        line = self._line_of(self._propose(), invoice)
        self.assertEqual(line.flat_fee_amount, 0.0)
        self.assertTrue(line.interest_amount)
        # a collector raising the level by hand gets the company's fee too
        self.company.credit_dunning_flat_fee = 40.0
        line.level_id = self.final
        self.assertAlmostEqual(
            line.flat_fee_amount, self.eur._convert(40.0, self.currency, self.company, self.today)
        )

    def test_interest_points_per_company_in_the_letter(self):
        self.company.credit_interest_points_business = 0.0
        invoice, run = self._second_level_run()
        line = self._line_of(run, invoice)
        due = invoice.invoice_date_due
        # the run's set-based interest equals the public method with the company's points
        self.assertEqual(
            line.interest_amount,
            self.base_rate.statutory_interest(1000.0, due, self.today, company=self.company),
        )
        self.company.credit_interest_points_business = 9.0
        self.assertGreater(
            self.base_rate.statutory_interest(1000.0, due, self.today, company=self.company),
            line.interest_amount,
        )

    def test_charges_not_invoiced_by_default(self):
        invoice, run = self._second_level_run()
        run.action_validate()
        self.assertFalse(run.letter_ids.charge_move_ids)
        self.assertFalse(invoice.credit_dunning_interest_date)

    def test_charges_invoiced(self):
        self.company.credit_dunning_invoice_charges = True
        invoice, run = self._second_level_run()
        line = self._line_of(run, invoice)
        interest, flat_fee = line.interest_amount, line.flat_fee_amount
        self.assertTrue(interest and flat_fee)
        self.assertEqual(line.interest_date_from, invoice.invoice_date_due + timedelta(days=1))
        run.action_validate()
        letter = run.letter_ids
        charge = letter.charge_move_ids
        self.assertEqual(len(charge), 1)
        self.assertEqual(charge.state, "posted")
        self.assertEqual(charge.move_type, "out_invoice")
        self.assertEqual(charge.partner_id, self.customer)
        self.assertEqual(charge.invoice_date, self.today)
        self.assertEqual(charge.invoice_date_due, self.today)
        self.assertEqual(charge.invoice_origin, run.name)
        self.assertIn(invoice.name, charge.ref)
        self.assertIn(invoice.name, str(charge.narration))
        self.assertEqual(charge.amount_tax, 0.0)
        self.assertEqual(charge.currency_id, self.currency)
        # interest, flat fee and the level's dunning fee, each on its own line
        self.assertEqual(
            sorted(charge.invoice_line_ids.mapped("price_subtotal")), sorted([interest, flat_fee, 2.5])
        )
        self.assertAlmostEqual(charge.amount_total, interest + flat_fee + 2.5)
        self.assertTrue(all(invoice.name in name for name in charge.invoice_line_ids.mapped("name")[:2]))
        # the letter names the charge invoice
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("credit_control.credit_dunning_letter_report_action", letter.ids)[0]
            .decode()
        )
        self.assertIn(charge.name, html)
        self.assertEqual(letter.action_view_charge_moves()["res_id"], charge.id)
        # interest up to today is invoiced: the next letter charges only the days after it, the
        # charge invoice is shown but never charged interest (§289 BGB) or the flat fee
        self.assertEqual(invoice.credit_dunning_interest_date, self.today)
        later = self.today + timedelta(days=14)
        next_run = self._propose(date=later)
        next_line = self._line_of(next_run, invoice)
        self.assertEqual(next_line.level_id, self.final)
        self.assertEqual(
            next_line.interest_amount,
            self.base_rate.statutory_interest(1000.0, self.today, later, company=self.company),
        )
        self.assertEqual(next_line.interest_date_from, self.today + timedelta(days=1))
        self.assertEqual(next_line.flat_fee_amount, 0.0)
        charge_line = self._line_of(next_run, charge)
        self.assertEqual(charge_line.line_type, "invoice")
        self.assertEqual(charge_line.amount_residual, charge.amount_total)
        self.assertEqual((charge_line.interest_amount, charge_line.flat_fee_amount), (0.0, 0.0))
        self.assertFalse(charge_line.is_escalation)
        # changing the level of the charge line by hand charges nothing either
        charge_line.level_id = self.final
        self.assertEqual((charge_line.interest_amount, charge_line.flat_fee_amount), (0.0, 0.0))
        # the charge invoice never passes the sales credit check on posting
        self.company.credit_check_invoice = True
        self.customer.with_company(self.company).write({"credit_limit": 1.0, "credit_limit_set": True})
        next_run.action_validate()
        self.assertEqual(next_run.letter_ids.charge_move_ids.state, "posted")

    def test_level_without_invoiced_charges_and_consumer(self):
        self.company.credit_dunning_invoice_charges = True
        self.second.invoice_charges = False
        _invoice, run = self._second_level_run()
        run.action_validate()
        self.assertFalse(run.letter_ids.charge_move_ids)
        self.second.invoice_charges = True
        consumer = self.env["res.partner"].create(
            {"name": "Max Mustermann", "email": "max@example.com", "is_company": False}
        )
        invoice, run = self._second_level_run(partner=consumer)
        run.action_validate()
        charge = run.letter_ids.charge_move_ids
        # a consumer owes interest (5 points) and the dunning fee, never the flat fee
        self.assertEqual(len(charge.invoice_line_ids), 2)
        self.assertAlmostEqual(
            charge.amount_total,
            self.base_rate.statutory_interest(
                1000.0, invoice.invoice_date_due, self.today, business=False, company=self.company
            )
            + 2.5,
        )

    def test_charge_accounts_from_settings(self):
        income = self.company_data["default_account_revenue"].copy({"code": "489900", "name": "Mahngebühren"})
        interest = self.company_data["default_account_revenue"].copy(
            {"code": "271000", "name": "Zinserträge"}
        )
        self.company.write(
            {
                "credit_dunning_invoice_charges": True,
                "credit_dunning_fee_account_id": income.id,
                "credit_dunning_interest_account_id": interest.id,
            }
        )
        _invoice, run = self._second_level_run()
        run.action_validate()
        lines = run.letter_ids.charge_move_ids.invoice_line_ids
        self.assertEqual(lines.filtered(lambda ln: "§288 BGB" in ln.name).account_id, interest)
        self.assertEqual((lines - lines.filtered(lambda ln: "§288 BGB" in ln.name)).account_id, income)


@tagged("post_install", "-at_install")
class TestDunningAccess(DunningCommon):
    def test_salesperson_cannot_run_dunning(self):
        self._invoice(100.0, days_ago=10)
        run = self._propose()
        runs = self.run_model.with_user(self.sales_user)
        with self.assertRaises(AccessError) as caught:
            runs.create({"date": self.today, "company_id": self.company.id})
        self.assertRegex(str(caught.exception), r"Dunning Run records are created by a dunning proposal")
        # public entry points: the wizard, "send a reminder now" on a customer or an invoice
        with self.assertRaises(AccessError) as caught:
            self.env["credit.dunning.run.create"].with_user(self.sales_user).create({"date": self.today})
        self.assertRegex(str(caught.exception), r"You are not allowed to create 'Propose a Dunning Run'")
        with self.assertRaises(AccessError) as caught:
            self.customer.with_user(self.sales_user).action_credit_dunning_send_now()
        self.assertRegex(str(caught.exception), r"You are not allowed to create 'Dunning Run'")
        with self.assertRaises(AccessError) as caught:
            run.with_user(self.sales_user).action_validate()
        self.assertRegex(str(caught.exception), r"You are not allowed to access 'Dunning Run'")
        with self.assertRaises(AccessError) as caught:
            run.letter_ids.with_user(self.sales_user).read(["amount_residual"])
        self.assertRegex(str(caught.exception), r"You are not allowed to access 'Dunning Letter'")
        self.assertEqual(run.state, "draft")

    def test_collector_cannot_configure(self):
        with self.assertRaises(AccessError) as caught:
            self.env["credit.base.rate"].with_user(self.collector).search([], limit=1).unlink()
        self.assertRegex(
            str(caught.exception), r"You are not allowed to delete 'Base Rate \(Basiszinssatz\)'"
        )
        with self.assertRaises(AccessError) as caught:
            self.reminder.with_user(self.collector).unlink()
        self.assertRegex(str(caught.exception), r"You are not allowed to delete 'Dunning Level'")
        with self.assertRaises(AccessError) as caught:
            self.company.with_user(self.collector).credit_dunning_invoice_charges = True
        self.assertRegex(str(caught.exception), r"You are not allowed to modify 'Companies'")
        # but validates a run that invoices charges
        self.company.credit_dunning_invoice_charges = True
        invoice = self._invoice(1000.0, days_ago=60)
        self._set_level(invoice, self.first, days_ago=14)
        run = self.run_model.with_user(self.collector)._create_runs(self.company, self.today)
        run.action_validate()
        self.assertEqual(run.letter_ids.charge_move_ids.state, "posted")
