import csv
import io

import openpyxl

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .collections_common import CollectionsCommon


class FactoringCommon(CollectionsCommon):
    """A factor with a bank account, an open contract without recourse the customer is assigned to."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.factor = cls.env["res.partner"].create({"name": "Nord Factoring AG", "is_company": True})
        cls.factor_bank = cls.env["res.partner.bank"].create(
            {"acc_number": "DE02120300000000202051", "partner_id": cls.factor.id}
        )
        cls.Contract = cls.env["credit.factoring.contract"]
        cls.contract = cls.Contract.create(
            {
                "name": "Factoring 2026",
                "factor_id": cls.factor.id,
                "bank_account_id": cls.factor_bank.id,
                "factoring_type": "open",
                "purchase_limit": 5000.0,
                "fee_percent": 1.5,
                "retention_percent": 10.0,
            }
        )
        cls.customer.with_user(cls.credit_manager).write({"credit_factoring_contract_id": cls.contract.id})

    def _receivable_lines(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")


@tagged("post_install", "-at_install")
class TestFactoring(FactoringCommon):
    def test_open_without_recourse_sold_on_posting(self):
        """Posted for an assigned customer: sold, out of dunning, out of the exposure, on the factor's
        list; the company's own collections refuse it."""
        invoice = self._invoice(1200.0, days_ago=40)
        self.assertEqual(invoice.credit_factoring_state, "sold")
        self.assertEqual(invoice.credit_factoring_contract_id, self.contract)
        self.assertEqual(invoice.credit_factoring_date, self.today)
        self.assertTrue(all(self._receivable_lines(invoice).mapped("credit_exposure_excluded")))
        self.assertIn(invoice.id, self._blocked(invoice))
        self.assertNotIn(invoice.id, self._dunned_moves())
        self.assertIn(
            self.invoice.id, self._dunned_moves(), "posted before the customer was assigned: not sold"
        )
        self.assertEqual(self.customer.credit_factoring_used, 1200.0)
        self.assertEqual(self.customer.credit_factoring_limit_effective, 5000.0)
        self.assertEqual(self.contract.invoice_count, 1)
        self.assertEqual(self.contract.customer_count, 1)
        with self.assertRaises(ValidationError) as caught:
            self.Promise.with_user(self.collector).create(
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount": 100.0,
                    "date_promised": self._days(5),
                }
            )
        self.assertIn("are sold to a factor, who collects them", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.env["credit.agency.handover"].with_user(self.collector).create(
                {
                    "partner_id": self.customer.id,
                    "agency_id": self.factor.id,
                    "move_ids": [Command.set(invoice.ids)],
                }
            )
        self.assertIn("are sold to a factor", str(caught.exception))
        invoice.invoice_user_id = self.sales_user
        with self.assertRaises(ValidationError) as caught:
            self.Dispute.with_user(self.sales_user).create(
                {"partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)], "amount": 10.0}
            )
        self.assertIn("are sold to a factor", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.Plan.with_user(self.collector).create(
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount_total": 1200.0,
                    "instalment_count": 2,
                    "frequency": "monthly",
                    "date_first": self._days(10),
                }
            )
        self.assertIn("are sold to a factor", str(caught.exception))
        self.assertFalse(self.Promise.search([("move_ids", "in", invoice.ids)]))

    def test_with_recourse_counts(self):
        self.contract.with_user(self.credit_manager).with_recourse = True
        invoice = self._invoice(800.0, days_ago=40)
        self.assertEqual(invoice.credit_factoring_state, "sold")
        self.assertFalse(any(self._receivable_lines(invoice).mapped("credit_exposure_excluded")))
        self.assertNotIn(invoice.id, self._dunned_moves(), "still the factor's to collect")

    def test_exposure_without_recourse_only(self):
        """Sold without recourse: out of the customer's exposure; with recourse or taken back: in."""

        def exposure():
            self.env.invalidate_all()
            return self.customer.credit_receivable, self.customer.credit_exposure

        receivable, total = exposure()
        sold = self._invoice(1200.0, days_ago=40)
        self.assertEqual(exposure(), (receivable, total), "sold without recourse: not the company's risk")
        self.contract.with_user(self.credit_manager).with_recourse = True
        recourse = self._invoice(300.0)
        self.assertEqual(exposure(), (receivable + 300.0, total + 300.0), "with recourse it counts")
        sold.with_user(self.credit_manager)._credit_factoring_take_back("Recourse")
        self.assertEqual(exposure(), (receivable + 1500.0, total + 1500.0), "taken back it counts again")
        self.assertEqual(recourse.credit_factoring_state, "sold")

    def test_silent_company_keeps_dunning(self):
        self.contract.with_user(self.credit_manager).write(
            {"factoring_type": "silent", "company_keeps_dunning": True}
        )
        invoice = self._invoice(500.0, days_ago=40)
        self.assertEqual(invoice.credit_factoring_state, "sold")
        self.assertNotIn(invoice.id, self._blocked(invoice))
        self.assertFalse(invoice._credit_factoring_notice(), "silent: no notice on the PDF")
        self.contract.with_user(self.credit_manager).company_keeps_dunning = False
        self.assertIn(invoice.id, self._blocked(invoice))

    def test_take_back_dunned_from_own_history(self):
        invoice = self._invoice(700.0, days_ago=60)
        self._set_level(invoice, self.first, days_ago=20)
        self.assertNotIn(invoice.id, self._dunned_moves())
        with self.assertRaises(UserError) as caught:
            invoice.with_user(self.credit_manager)._credit_factoring_take_back("  ")
        self.assertIn("Give the reason", str(caught.exception))
        with self.assertRaises(AccessError):
            invoice.with_user(self.collector)._credit_factoring_take_back("Debtor insolvent")
        wizard = (
            self.env["credit.factoring.take.back"]
            .with_user(self.credit_manager)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "Recourse: unpaid after 90 days"})
        )
        self.assertEqual(wizard.move_ids, invoice)
        wizard.action_confirm()
        self.assertEqual(invoice.credit_factoring_state, "taken_back")
        self.assertEqual(invoice.credit_factoring_takeback_date, self.today)
        self.assertEqual(invoice.credit_factoring_takeback_reason, "Recourse: unpaid after 90 days")
        self.assertFalse(any(self._receivable_lines(invoice).mapped("credit_exposure_excluded")))
        self.assertEqual(invoice.credit_dunning_level_id, self.first, "its own history is kept")
        run = self._propose()
        line = self._line_of(run, invoice)
        self.assertTrue(line, "dunned again")
        self.assertEqual(line.level_id, self.second, "from its own level on")
        self.assertEqual(self.customer.credit_factoring_used, 0.0)
        with self.assertRaises(UserError) as caught:
            invoice.with_user(self.credit_manager)._credit_factoring_take_back("again")
        self.assertIn("are not sold to a factor", str(caught.exception))

    def test_sell_by_hand_and_limit_flag(self):
        """A customer without contract at posting is sold by hand; above the purchase limit the
        invoice is flagged and the credit manager gets a task; posting is never blocked."""
        other = self.other_customer
        first = self._invoice(3000.0, partner=other)
        self.assertFalse(first.credit_factoring_state)
        with self.assertRaises(UserError) as caught:
            first.with_user(self.credit_manager).action_credit_factoring_assign()
        self.assertIn("is not assigned to a factoring contract", str(caught.exception))
        other.with_user(self.credit_manager).write(
            {"credit_factoring_contract_id": self.contract.id, "credit_factoring_limit": 4000.0}
        )
        with self.assertRaises(AccessError):
            first.with_user(self.collector).action_credit_factoring_assign()
        first.with_user(self.credit_manager).action_credit_factoring_assign()
        self.assertEqual(first.credit_factoring_state, "sold")
        self.assertFalse(first.credit_factoring_over_limit)
        with self.assertRaises(UserError) as caught:
            first.with_user(self.credit_manager).action_credit_factoring_assign()
        self.assertIn("already sold", str(caught.exception))
        second = self._invoice(1500.0, partner=other)
        self.assertEqual(second.state, "posted")
        self.assertEqual(second.credit_factoring_state, "sold")
        self.assertTrue(second.credit_factoring_over_limit)
        self.assertTrue(other.credit_factoring_over_limit)
        self.assertEqual(other.credit_factoring_used, 4500.0)
        task = self.Task.search([("origin", "=", "factoring_limit"), ("partner_id", "=", other.id)])
        self.assertEqual(len(task), 1)
        self.assertEqual(task.move_ids, second)
        self.assertIn("exceed the factor's purchase limit", task.name)

    def test_bad_input_refused_nothing_written(self):
        with self.assertRaises(ValidationError) as caught:
            self.Contract.with_user(self.credit_manager).create({"name": "No factor"})
        self.assertIn("needs a factor", str(caught.exception))
        self.assertFalse(self.Contract.search([("name", "=", "No factor")]))
        with self.assertRaises(ValidationError) as caught:
            self.contract.with_user(self.credit_manager).bank_account_id = self.bank
        self.assertIn("is not an account of the factor", str(caught.exception))
        foreign = self._other_company_invoice()
        self.assertFalse(foreign.credit_factoring_state, "the contract is of the first company only")
        with self.assertRaises(UserError) as caught:
            foreign._credit_factoring_assign(self.contract)
        self.assertIn("belong to another company than the factoring contract", str(caught.exception))
        self.assertFalse(foreign.credit_factoring_state)
        self.assertFalse(foreign.credit_factoring_contract_id)
        self.assertFalse(any(foreign.line_ids.mapped("credit_exposure_excluded")))
        with self.assertRaises(ValidationError):
            self.contract.with_user(self.credit_manager).purchase_limit = -1

    def test_sales_user_guard(self):
        """A plain Sales user neither assigns customers nor sells or takes back invoices, nor
        pre-sets the contract by a default_* key."""
        Partner = self.env["res.partner"].with_user(self.sales_user)
        with self.assertRaises(AccessError) as caught:
            self.other_customer.with_user(self.sales_user).write(
                {"credit_factoring_contract_id": self.contract.id}
            )
        self.assertIn("Only Credit Managers assign customers to factoring", str(caught.exception))
        with self.assertRaises(AccessError):
            Partner.create({"name": "Neu GmbH", "credit_factoring_limit": 99999.0})
        defaults = Partner.with_context(default_credit_factoring_contract_id=self.contract.id).default_get(
            ["credit_factoring_contract_id", "name"]
        )
        self.assertFalse(defaults.get("credit_factoring_contract_id"))
        invoice = self._invoice(100.0)
        invoice.invoice_user_id = self.sales_user
        with self.assertRaises(AccessError) as caught:
            invoice.with_user(self.sales_user).write({"credit_factoring_state": "taken_back"})
        self.assertIn("changes only through its buttons", str(caught.exception))
        with self.assertRaises(AccessError):
            invoice.with_user(self.credit_manager).write({"credit_factoring_contract_id": False})
        with self.assertRaises(AccessError):
            invoice.with_user(self.sales_user).action_credit_factoring_assign()
        self.assertEqual(invoice.credit_factoring_state, "sold")

    def test_sales_user_default_keys_ignored(self):
        """An invoice created with ``default_credit_factoring_*`` keys by a salesperson who also
        invoices (Billing) is not sold: it stays in dunning and in the exposure."""
        self.sales_user.groups_id = [Command.link(self.env.ref("account.group_account_invoice").id)]
        Move = (
            self.env["account.move"]
            .with_user(self.sales_user)
            .with_context(
                default_credit_factoring_state="sold",
                default_credit_factoring_contract_id=self.contract.id,
                default_credit_factoring_date="2026-01-01",
            )
        )
        defaults = Move.default_get(["credit_factoring_state", "credit_factoring_contract_id", "move_type"])
        self.assertFalse(defaults.get("credit_factoring_state"))
        self.assertFalse(defaults.get("credit_factoring_contract_id"))
        invoice = Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": self.other_customer.id,
                "invoice_line_ids": [Command.create({"name": "Ware", "quantity": 1, "price_unit": 100.0})],
            }
        )
        self.assertFalse(invoice.credit_factoring_state)
        self.assertFalse(invoice.credit_factoring_contract_id)
        self.assertFalse(invoice.credit_factoring_date)

    def test_pdf_notice_and_factor_account(self):
        invoice = self._invoice(250.0)
        html = (
            self.env["ir.actions.report"]._render_qweb_html("account.report_invoice", invoice.ids)[0].decode()
        )
        self.assertIn("We have assigned the claim arising from this invoice to", html)
        self.assertIn("Nord Factoring AG", html)
        self.assertIn(self.factor_bank.display_name, html)
        self.assertNotIn("DE89370400440532013000", html, "not the company's account")
        self.contract.with_user(self.credit_manager).factoring_type = "silent"
        html = (
            self.env["ir.actions.report"]._render_qweb_html("account.report_invoice", invoice.ids)[0].decode()
        )
        self.assertNotIn("We have assigned the claim", html)

    def test_export_csv_xlsx(self):
        old = self._invoice(100.0, days_ago=10)
        new = self._invoice(200.0)
        self.env.cr.execute(
            "UPDATE account_move SET credit_factoring_date = %s WHERE id = %s", (self._days(-10), old.id)
        )
        self.env.invalidate_all()
        contract = self.contract.with_user(self.credit_manager)
        contract.date_export_from = self._days(-1)
        rows = list(
            csv.reader(
                io.StringIO(contract._export_csv(contract.date_export_from).decode("utf-8-sig")),
                delimiter=";",
            )
        )
        self.assertEqual(rows[0][0], "Invoice")
        self.assertEqual([row[0] for row in rows[1:]], [new.name])
        self.assertEqual(rows[1][7], "200.0")
        book = openpyxl.load_workbook(io.BytesIO(contract._export_xlsx()))
        values = [cell for row in book.active.iter_rows(values_only=True) for cell in row]
        self.assertIn(old.name, values)
        self.assertIn(new.name, values)
        action = contract.action_export_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
        with self.assertRaises(AccessError):
            self.contract.with_user(self.collector)._export_rows()

    def test_factor_payment_reconciles(self):
        """The factor forwards the debtor's payment: a payment of the factor partner reconciles
        with the sold invoice of the customer."""
        invoice = self._invoice(900.0)
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.factor.id,
                "amount": 900.0,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        lines = (payment.move_id.line_ids | invoice.line_ids).filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        )
        self.assertEqual(len(lines.account_id), 1, "the factor and the customer share the receivable account")
        lines.reconcile()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.customer.credit_factoring_used, 0.0)
