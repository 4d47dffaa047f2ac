from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestWriteOff(CreditControlCommon):
    """A German-chart-like set-up (the test database has no l10n_de): SKR03 loss accounts 2400,
    2401 (7 %), 2406 (19 %), output VAT 1776, a 19 % and a 7 % sales tax.

    Invoice: 1,000.00 net at 19 % (VAT 190.00) + 500.00 net at 7 % (VAT 35.00) = 1,725.00;
    690.00 paid (40 %), 1,035.00 open (60 %). Written off: 600.00 net to 2406, 300.00 net to 2401,
    VAT corrected 114.00 (19 %) + 21.00 (7 %) = 135.00; the receivable is cleared."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        account = cls.env["account.account"]

        def new_account(code, name, account_type):
            return account.create(
                {"code": code, "name": name, "account_type": account_type, "company_ids": [cls.company.id]}
            )

        cls.loss = new_account("2400", "Forderungsverluste (übliche Höhe)", "expense")
        cls.loss_7 = new_account("2401", "Forderungsverluste 7 % USt", "expense")
        cls.loss_19 = new_account("2406", "Forderungsverluste 19 % USt", "expense")
        cls.vat_account = new_account("1776", "Umsatzsteuer 19 %", "liability_current")

        def new_tax(name, amount):
            repartition = [
                Command.create({"repartition_type": "base"}),
                Command.create({"repartition_type": "tax", "account_id": cls.vat_account.id}),
            ]
            return cls.env["account.tax"].create(
                {
                    "name": name,
                    "amount": amount,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "company_id": cls.company.id,
                    "invoice_repartition_line_ids": repartition,
                    "refund_repartition_line_ids": repartition,
                }
            )

        cls.tax_19 = new_tax("USt 19 %", 19.0)
        cls.tax_7 = new_tax("USt 7 %", 7.0)
        cls.company.account_sale_tax_id = cls.tax_19
        cls.invoice = cls._german_invoice()
        cls._pay(cls.invoice, amount=690.0)

    @classmethod
    def _german_invoice(cls, partner=None, post=True):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or cls.customer).id,
                "invoice_date": cls.today,
                "invoice_payment_term_id": cls.immediate.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Maschine",
                            "quantity": 1,
                            "price_unit": 1000.0,
                            "tax_ids": [Command.set(cls.tax_19.ids)],
                        }
                    ),
                    Command.create(
                        {
                            "name": "Fachbuch",
                            "quantity": 1,
                            "price_unit": 500.0,
                            "tax_ids": [Command.set(cls.tax_7.ids)],
                        }
                    ),
                ],
            }
        )
        if post:
            invoice.action_post()
        return invoice

    def _wizard(self, invoices, user=None, **values):
        env = self.env(user=user or self.credit_manager)
        return (
            env["credit.write.off"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create({"reason": "insolvency", "note": "Insolvenzverfahren 12 IN 345/26", **values})
        )

    def _counts(self):
        return (
            self.env["credit.write.off.entry"].search_count([]),
            self.env["account.move"].search_count([("move_type", "=", "out_refund")]),
        )

    def test_write_off_books_net_per_rate_and_corrects_vat(self):
        self.assertEqual(self.invoice.amount_residual, 1035.0)
        self._wizard(self.invoice).action_write_off()
        entry = self.env["credit.write.off.entry"].search([("invoice_id", "=", self.invoice.id)])
        self.assertEqual((entry.amount, entry.amount_tax, entry.state), (1035.0, 135.0, "done"))
        refund = entry.refund_id
        self.assertEqual((refund.move_type, refund.state), ("out_refund", "posted"))
        lines = refund.line_ids

        def balance(**where):
            return sum(
                lines.filtered(lambda line: all(line[key] == value for key, value in where.items())).mapped(
                    "balance"
                )
            )

        # net to the loss account of its rate (debit), VAT of each rate corrected (debit on 1776)
        self.assertEqual(balance(account_id=self.loss_19, display_type="product"), 600.0)
        self.assertEqual(balance(account_id=self.loss_7, display_type="product"), 300.0)
        self.assertEqual(balance(account_id=self.loss), 0.0)
        self.assertEqual(balance(tax_line_id=self.tax_19), 114.0)
        self.assertEqual(balance(tax_line_id=self.tax_7), 21.0)
        self.assertEqual(balance(account_id=self.vat_account), 135.0)
        # receivable cleared
        self.assertTrue(self.invoice.currency_id.is_zero(self.invoice.amount_residual))
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(
            all(
                refund.line_ids.filtered(lambda ml: ml.account_id.account_type == "asset_receivable").mapped(
                    "reconciled"
                )
            )
        )
        # reason in the chatter of invoice and customer
        for record in (self.invoice, self.customer):
            self.assertIn("Insolvenzverfahren 12 IN 345/26", record.message_ids[0].body)

    def test_undo_restores_the_invoice(self):
        self._wizard(self.invoice).action_write_off()
        entry = self.env["credit.write.off.entry"].search([("invoice_id", "=", self.invoice.id)])
        entry_manager = entry.with_user(self.credit_manager)
        with self.assertRaisesRegex(UserError, "Enter why"):
            entry_manager.action_undo()
        entry_manager.undo_reason = "Quote paid by the insolvency administrator"
        entry_manager.action_undo()
        self.assertEqual(entry.state, "undone")
        self.assertEqual(self.invoice.amount_residual, 1035.0)
        self.assertEqual(self.invoice.payment_state, "partial")
        self.assertEqual((entry.reversal_id.state, entry.reversal_id.move_type), ("posted", "out_invoice"))
        # the loss and the VAT correction are reversed: net zero on each account
        moves = entry.refund_id | entry.reversal_id
        for account in (self.loss_19, self.loss_7, self.vat_account):
            self.assertEqual(
                sum(moves.line_ids.filtered(lambda ml, a=account: ml.account_id == a).mapped("balance")), 0.0
            )
        for record in (self.invoice, self.customer):
            self.assertIn("Quote paid by the insolvency administrator", record.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "already undone"):
            entry_manager.action_undo()

    def test_kpi_counts_write_off_net_of_undo(self):
        """Write-off ratio: 1,035.00 written off ÷ credit sales 1,725.00 (the write-off credit
        note is no sale) = 60 %; undone in the same month: 0."""
        kpi_model = self.env["credit.kpi"]
        month_end = fields.Date.end_of(self.today, "month")
        self._wizard(self.invoice).action_write_off()
        kpi = kpi_model._compute_month(month_end, today=self.today)
        self.assertEqual(kpi["credit_sales"], 1725.0)
        self.assertEqual(kpi["write_off"], 1035.0)
        self.assertAlmostEqual(kpi["write_off_ratio"], 60.0)
        entry = self.env["credit.write.off.entry"].search([("invoice_id", "=", self.invoice.id)])
        self.assertIn(entry.refund_id.id, kpi["write_off_move_ids"])
        entry.undo_reason = "Error"
        entry.with_user(self.credit_manager).action_undo()
        kpi = kpi_model._compute_month(month_end, today=self.today)
        self.assertEqual((kpi["credit_sales"], kpi["write_off"], kpi["write_off_ratio"]), (1725.0, 0.0, 0.0))

    def test_partner_action_proposes_open_invoices(self):
        wizard = (
            self.env(user=self.credit_manager)["credit.write.off"]
            .with_context(active_model="res.partner", active_ids=self.customer.ids)
            .create({"note": "Decision of the credit committee"})
        )
        self.assertEqual(wizard.move_ids, self.invoice)
        self.assertEqual(wizard.partner_id, self.customer)
        self.assertEqual(wizard.amount_company, 1035.0)

    def test_refuses_several_customers(self):
        other = self.env["res.partner"].create({"name": "Andere AG", "is_company": True})
        before = self._counts()
        with self.assertRaisesRegex(UserError, "one customer at a time"):
            self._wizard(self.invoice | self._german_invoice(partner=other)).action_write_off()
        self.assertEqual(self._counts(), before)

    def test_refuses_several_companies(self):
        other_company = self.setup_other_company(name="Zweite GmbH")["company"]
        self.credit_manager.company_ids |= other_company
        other_invoice = (
            self.env["account.move"]
            .with_company(other_company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": self.today,
                    "invoice_line_ids": [Command.create({"name": "X", "price_unit": 100.0, "tax_ids": []})],
                }
            )
        )
        other_invoice.action_post()
        before = self._counts()
        with self.assertRaisesRegex(UserError, "one company at a time"):
            self._wizard(self.invoice | other_invoice).action_write_off()
        self.assertEqual(self._counts(), before)

    def test_refuses_paid_and_draft_invoices(self):
        paid = self._german_invoice()
        self._pay(paid)
        with self.assertRaisesRegex(UserError, "are paid"):
            self._wizard(paid).action_write_off()
        draft = self._german_invoice(post=False)
        before = self._counts()
        with self.assertRaisesRegex(UserError, "Only posted customer invoices"):
            self._wizard(draft).action_write_off()
        with self.assertRaisesRegex(UserError, "are paid"):
            self._wizard(self.invoice | paid).action_write_off()
        self.assertEqual(self._counts(), before)
        self.assertEqual(self.invoice.amount_residual, 1035.0)

    def test_refuses_missing_loss_account(self):
        for account, code in ((self.loss, "2400X"), (self.loss_7, "2401X"), (self.loss_19, "2406X")):
            account.code = code
        before = self._counts()
        with self.assertRaisesRegex(UserError, "Set the loss account"):
            self._wizard(self.invoice).action_write_off()
        self.assertEqual(self._counts(), before)
        self.assertEqual(self.invoice.amount_residual, 1035.0)
        # configured: the one loss account takes every rate
        self.company.credit_write_off_account_id = self.loss
        self._wizard(self.invoice).action_write_off()
        refund = self.env["credit.write.off.entry"].search([("invoice_id", "=", self.invoice.id)]).refund_id
        self.assertEqual(
            sum(refund.line_ids.filtered(lambda ml: ml.account_id == self.loss).mapped("balance")), 900.0
        )

    def test_only_credit_managers(self):
        with self.assertRaises(AccessError):
            self._wizard(self.invoice, user=self.collector)
        with self.assertRaises(AccessError):
            self.env["credit.write.off.entry"].with_user(self.sales_user).create(
                {
                    "company_id": self.company.id,
                    "partner_id": self.customer.id,
                    "invoice_id": self.invoice.id,
                    "refund_id": self.invoice.id,
                    "date": self.today,
                    "reason": "other",
                    "currency_id": self.currency.id,
                }
            )
        self._wizard(self.invoice).action_write_off()
        entry = self.env["credit.write.off.entry"].search([("invoice_id", "=", self.invoice.id)])
        with self.assertRaises(AccessError):
            entry.with_user(self.collector).write({"undo_reason": "no"})
        self.assertEqual(entry.state, "done")
