from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.credit_write_off_entry import MANAGER_GROUP, WRITE_OFF_REASONS


class CreditWriteOff(models.TransientModel):
    """Write off the open amount of a customer's invoices as uncollectable: per invoice a posted
    credit note on the loss account(s) with the invoice's taxes in the invoice's proportion (the
    VAT correction of §17 UStG), reconciled with the invoice."""

    _name = "credit.write.off"
    _description = "Write Off Receivables"
    _check_company_auto = True

    # === FIELDS === #
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    partner_id = fields.Many2one("res.partner", string="Customer", compute="_compute_partner_id")
    move_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        required=True,
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
        " ('payment_state', 'in', ('not_paid', 'partial')), ('company_id', '=', company_id)]",
    )
    reason = fields.Selection(WRITE_OFF_REASONS, required=True, default="decision")
    note = fields.Text(string="Explanation", required=True)
    date = fields.Date(required=True, default=fields.Date.context_today)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_company = fields.Monetary(
        string="Open Amount",
        compute="_compute_amount_company",
        help="Open amount to write off, VAT included.",
    )

    # === COMPUTE === #
    @api.depends("move_ids")
    def _compute_partner_id(self):
        for wizard in self:
            partners = wizard.move_ids.commercial_partner_id
            wizard.partner_id = partners if len(partners) == 1 else False

    @api.depends("move_ids")
    def _compute_amount_company(self):
        for wizard in self:
            wizard.amount_company = sum(wizard.move_ids.mapped("amount_residual_signed"))

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model, ids = self.env.context.get("active_model"), self.env.context.get("active_ids") or []
        if "move_ids" in fields_list and model == "account.move" and ids:
            values["move_ids"] = [Command.set(ids)]
            companies = self.env["account.move"].browse(ids).company_id
            if len(companies) == 1:
                values["company_id"] = companies.id
        elif "move_ids" in fields_list and model == "res.partner" and ids:
            partner = self.env["res.partner"].browse(ids[:1]).commercial_partner_id
            invoices = self.env["account.move"].search(
                [
                    ("commercial_partner_id", "=", partner.id),
                    ("company_id", "=", self.env.company.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                ]
            )
            values["move_ids"] = [Command.set(invoices.ids)]
        return values

    # === ACTIONS === #
    def action_write_off(self):
        """Check everything first (nothing is written when a check fails), then book."""
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only Credit Managers can write off receivables."))
        plans = self._check_and_plan()
        entries = self.env["credit.write.off.entry"]
        for invoice, lines in plans:
            entries |= self._book(invoice, lines)
        return {
            "type": "ir.actions.act_window",
            "name": _("Write-offs"),
            "res_model": "credit.write.off.entry",
            "view_mode": "list,form",
            "domain": [("id", "in", entries.ids)],
        }

    # === BUSINESS METHODS === #
    def _check_and_plan(self):
        """[(invoice, [{"account", "taxes", "net"}, …]), …] or a UserError naming the problem."""
        invoices = self.move_ids
        if not invoices:
            raise UserError(_("Select the invoices to write off."))
        if len(invoices.commercial_partner_id) > 1:
            raise UserError(
                _(
                    "Write off the invoices of one customer at a time: %(customers)s.",
                    customers=", ".join(invoices.commercial_partner_id.mapped("display_name")),
                )
            )
        if len(invoices.company_id) > 1 or invoices.company_id != self.company_id:
            raise UserError(_("Write off the invoices of one company at a time."))
        wrong = invoices.filtered(lambda move: move.move_type != "out_invoice" or move.state != "posted")
        if wrong:
            raise UserError(
                _(
                    "Only posted customer invoices can be written off: %(moves)s.",
                    moves=", ".join(wrong.mapped("display_name")),
                )
            )
        paid = invoices.filtered(lambda move: move.currency_id.is_zero(move.amount_residual))
        if paid:
            raise UserError(
                _(
                    "These invoices are paid, nothing to write off: %(moves)s.",
                    moves=", ".join(paid.mapped("name")),
                )
            )
        if self.date < max(invoices.mapped("invoice_date")):
            raise UserError(_("The write-off date cannot be before the invoice date."))
        accounts = self.company_id._credit_write_off_accounts()
        standard_rate = self.company_id.account_sale_tax_id.amount or 19.0
        plans = []
        for invoice in invoices:
            lines = self._plan_invoice(invoice, accounts, standard_rate)
            if any(not line["account"] for line in lines):
                raise UserError(
                    _(
                        "Set the loss account for write-offs of %(company)s in the settings "
                        "(Credit Control > Write-off): no account is set and the chart has no "
                        "account 2400 / 6930.",
                        company=self.company_id.name,
                    )
                )
            plans.append((invoice, lines))
        return plans

    @api.model
    def _plan_invoice(self, invoice, accounts, standard_rate):
        """The credit note's lines: the invoice's net amount per tax combination times the open
        share (open amount / total), on the loss account of the combination's rate."""
        share = invoice.amount_residual / invoice.amount_total if invoice.amount_total else 0.0
        bases = defaultdict(float)
        for line in invoice.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            # a tax included in the price takes the gross amount as price
            included = any(line.tax_ids.mapped("price_include"))
            bases[line.tax_ids] += line.price_total if included else line.price_subtotal
        lines = []
        for taxes, base in bases.items():
            rate = sum(taxes.filtered(lambda tax: tax.amount_type == "percent").mapped("amount"))
            if not rate:
                account = accounts["general"]
            elif rate >= standard_rate:
                account = accounts["standard"] or accounts["general"]
            else:
                account = accounts["reduced"] or accounts["general"]
            net = invoice.currency_id.round(base * share)
            if net:
                lines.append({"account": account, "taxes": taxes, "net": net})
        return lines

    def _book(self, invoice, lines):
        """Post the credit note of one invoice, reconcile it and record the write-off."""
        reason_label = dict(self._fields["reason"]._description_selection(self.env))[self.reason]
        label = _("Write-off of %(invoice)s (%(reason)s)", invoice=invoice.name, reason=reason_label)
        refund = self._create_refund(invoice, lines, label)
        refund.action_post()
        (refund.line_ids | invoice.line_ids).filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        ).reconcile()
        return self._record_write_off(invoice, refund, reason_label)

    def _create_refund(self, invoice, lines, label):
        """The draft credit note: one line per loss account and tax combination, plus the cent(s)
        the prorated VAT leaves (rounding) on the first loss account without VAT."""
        refund = (
            self.env["account.move"]
            .with_context(default_move_type="out_refund")
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": invoice.partner_id.id,
                    "company_id": invoice.company_id.id,
                    "journal_id": invoice.journal_id.id,
                    "currency_id": invoice.currency_id.id,
                    "fiscal_position_id": invoice.fiscal_position_id.id,
                    "invoice_date": self.date,
                    "date": self.date,
                    "invoice_payment_term_id": False,
                    "invoice_origin": invoice.name,
                    "ref": label,
                    "invoice_line_ids": [
                        self._refund_line(label, line["account"], line["net"], line["taxes"])
                        for line in lines
                    ],
                }
            )
        )
        difference = invoice.currency_id.round(invoice.amount_residual - refund.amount_total)
        if difference:
            rounding = _("Rounding of %(label)s", label=label)
            refund.write({"invoice_line_ids": [self._refund_line(rounding, lines[0]["account"], difference)]})
        return refund

    @api.model
    def _refund_line(self, label, account, amount, taxes=None):
        return Command.create(
            {
                "name": label,
                "account_id": account.id,
                "quantity": 1.0,
                "price_unit": amount,
                "tax_ids": [Command.set(taxes.ids if taxes else [])],
            }
        )

    def _record_write_off(self, invoice, refund, reason_label):
        """The ``credit.write.off.entry`` and the note in the chatter of invoice, customer and
        credit note."""
        entry = self.env["credit.write.off.entry"].create(
            {
                "company_id": invoice.company_id.id,
                "partner_id": invoice.commercial_partner_id.id,
                "invoice_id": invoice.id,
                "refund_id": refund.id,
                "date": self.date,
                "reason": self.reason,
                "note": self.note,
                "currency_id": invoice.currency_id.id,
                "amount": refund.amount_total,
                "amount_tax": refund.amount_tax,
            }
        )
        message = _(
            "%(amount)s written off (%(reason)s, credit note %(refund)s, VAT corrected %(tax)s): %(note)s",
            amount=entry._format_amount(refund.amount_total, invoice.currency_id),
            reason=reason_label,
            refund=refund.name,
            tax=entry._format_amount(refund.amount_tax, invoice.currency_id),
            note=self.note,
        )
        for record in (invoice, invoice.commercial_partner_id, refund):
            record.message_post(body=message)
        return entry
