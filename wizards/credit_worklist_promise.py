from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from ..models.credit_promise import PROMISE_CHANNELS


class CreditWorklistPromise(models.TransientModel):
    """Record a promise to pay from the collector's worklist: the customer's overdue invoices
    are proposed, with their open amount as the promised amount."""

    _name = "credit.worklist.promise"
    _description = "Record a Promise to Pay"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    move_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        required=True,
        domain="[('commercial_partner_id', '=', partner_id), ('company_id', '=', company_id), "
        "('state', '=', 'posted'), ('move_type', '=', 'out_invoice'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    amount_open = fields.Monetary(string="Open on These Invoices", compute="_compute_amount_open")
    amount = fields.Monetary(string="Promised Amount", required=True)
    date_promised = fields.Date(string="Promised Date", required=True, default=fields.Date.context_today)
    channel = fields.Selection(
        PROMISE_CHANNELS,
        string="Given By",
        required=True,
        default="phone",
    )
    note = fields.Text()

    @api.depends("move_ids")
    def _compute_amount_open(self):
        for wizard in self:
            wizard.amount_open = sum(wizard.move_ids.mapped("amount_residual"))

    @api.model
    def action_new_for_partner(self, partner):
        partner = partner.commercial_partner_id
        today = fields.Date.context_today(self)
        moves = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", partner.id),
                ("company_id", "=", self.env.company.id),
                ("state", "=", "posted"),
                ("move_type", "=", "out_invoice"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", today),
            ],
            order="invoice_date_due, id",
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Record Promise to Pay"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_partner_id": partner.id,
                "default_move_ids": moves.ids,
                "default_amount": sum(moves.mapped("amount_residual")),
            },
        }

    def _check_promise(self):
        """Bad input gets a clear error before anything is written."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.date_promised < today:
            raise UserError(
                _("A promise to pay cannot be dated in the past (%(date)s).", date=self.date_promised)
            )
        foreign = self.move_ids.filtered(
            lambda m: m.commercial_partner_id != self.partner_id
            or m.company_id != self.company_id
            or m.state != "posted"
            or m.move_type != "out_invoice"
        )
        if foreign:
            raise UserError(
                _(
                    "A promise of %(partner)s can only cover its own posted invoices in %(company)s, "
                    "not %(moves)s.",
                    partner=self.partner_id.display_name,
                    company=self.company_id.name,
                    moves=", ".join(foreign.mapped("display_name")),
                )
            )
        if self.currency_id.compare_amounts(self.amount, 0) <= 0:
            raise UserError(_("The promised amount must be positive."))
        if self.currency_id.compare_amounts(self.amount, self.amount_open) > 0:
            raise UserError(
                _(
                    "The promised amount (%(amount)s) is more than is open on the invoices (%(open)s).",
                    amount=format_amount(self.env, self.amount, self.currency_id),
                    open=format_amount(self.env, self.amount_open, self.currency_id),
                )
            )

    def action_confirm(self):
        self.ensure_one()
        self._check_promise()
        self.env["credit.promise"].create(
            {
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "currency_id": self.currency_id.id,
                "move_ids": [fields.Command.set(self.move_ids.ids)],
                "amount": self.amount,
                "date_promised": self.date_promised,
                "channel": self.channel,
                "note": self.note,
            }
        )
        return {"type": "ir.actions.act_window_close"}
