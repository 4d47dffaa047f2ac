from datetime import timedelta

from odoo import api, fields, models


class CreditDunningLine(models.Model):
    _name = "credit.dunning.line"
    _description = "Dunning Letter Line"
    _order = "letter_id, line_type desc, date_due, id"
    _check_company_auto = True

    # === FIELDS === #
    letter_id = fields.Many2one("credit.dunning.letter", required=True, index=True, ondelete="cascade")
    run_id = fields.Many2one(related="letter_id.run_id", store=True, index=True)
    company_id = fields.Many2one(related="letter_id.company_id", store=True)
    partner_id = fields.Many2one(related="letter_id.partner_id", store=True)
    state = fields.Selection(related="letter_id.state")
    dunning_date = fields.Date(related="letter_id.dunning_date")
    move_id = fields.Many2one(
        "account.move", string="Document", required=True, index=True, ondelete="cascade", check_company=True
    )
    line_type = fields.Selection(
        [("invoice", "Invoice"), ("credit", "Credit Note or Payment")],
        required=True,
        default="invoice",
        help="Credits (credit notes, payments not yet matched) are shown and netted in the letter.",
    )
    previous_level_id = fields.Many2one("credit.dunning.level", string="Previous Level", readonly=True)
    level_id = fields.Many2one(
        "credit.dunning.level",
        string="Level",
        check_company=True,
        domain="[('company_id', '=', company_id)]",
        help="Level the invoice reaches with this letter.",
    )
    is_escalation = fields.Boolean(
        compute="_compute_is_escalation", help="The invoice moves to a new level with this letter."
    )
    currency_id = fields.Many2one("res.currency", required=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    date_invoice = fields.Date(string="Invoice Date")
    date_due = fields.Date(string="Due Date")
    days_overdue = fields.Integer()
    amount_total = fields.Monetary(string="Original Amount", currency_field="currency_id")
    amount_residual = fields.Monetary(string="Open Amount", currency_field="currency_id")
    amount_residual_company = fields.Monetary(
        string="Open Amount (Company Currency)", currency_field="company_currency_id"
    )
    interest_amount = fields.Monetary(
        string="Interest",
        currency_field="currency_id",
        compute="_compute_charges",
        store=True,
        readonly=False,
        precompute=False,
    )
    flat_fee_amount = fields.Monetary(
        string="Flat Fee",
        currency_field="currency_id",
        compute="_compute_charges",
        store=True,
        readonly=False,
        help="Flat fee of §288(5) BGB (40 EUR by default, per company), once per invoice, business "
        "customers only.",
    )
    interest_date_from = fields.Date(
        string="Interest From",
        compute="_compute_charges",
        store=True,
        readonly=False,
        help="First day of the interest period: the day after the due date, or after the last day "
        "whose interest was already invoiced.",
    )

    # === COMPUTE === #
    @api.depends("level_id", "previous_level_id")
    def _compute_is_escalation(self):
        for line in self:
            line.is_escalation = line.line_type == "invoice" and line.level_id != line.previous_level_id

    @api.depends("level_id")
    def _compute_charges(self):
        """Interest and flat fee of one line; the dunning run computes them set-based at creation
        and passes them in, so this runs only when a collector changes a line's level."""
        base_rates = self.env["credit.base.rate"]
        for line in self:
            level = line.level_id
            business = line.partner_id.is_company
            if line.line_type != "invoice" or not level or line.move_id.credit_dunning_charge_letter_id:
                # no interest on interest (§289 BGB), no flat fee for a charge invoice
                line.interest_amount = line.flat_fee_amount = 0.0
                line.interest_date_from = False
                continue
            interest_due = max(line.date_due, line.move_id.credit_dunning_interest_date or line.date_due)
            line.interest_amount = (
                base_rates.statutory_interest(
                    line.amount_residual,
                    interest_due,
                    line.dunning_date,
                    business=business,
                    company=line.company_id,
                    currency=line.currency_id,
                )
                if level.charge_interest
                else 0.0
            )
            line.interest_date_from = interest_due + timedelta(days=1) if line.interest_amount else False
            line.flat_fee_amount = (
                line._flat_fee_in(line.currency_id, line.company_id, line.dunning_date)
                if level.charge_flat_fee and business and not line.move_id.credit_dunning_flat_fee_charged
                else 0.0
            )

    # === TOOLING === #
    @api.model
    def _flat_fee_in(self, currency, company, date):
        """The company's flat fee of §288(5) BGB (an amount in EUR) in ``currency``."""
        if not company.credit_dunning_flat_fee:
            return 0.0
        eur = self.env.ref("base.EUR")
        return eur._convert(
            company.credit_dunning_flat_fee, currency, company, date or fields.Date.context_today(self)
        )
