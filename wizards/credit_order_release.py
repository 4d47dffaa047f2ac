from odoo import api, fields, models


class CreditOrderRelease(models.TransientModel):
    """A Credit Manager releases a blocked order or confirms it with an override."""

    _name = "credit.order.release"
    _description = "Credit Release of an Order"

    order_id = fields.Many2one("sale.order", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    mode = fields.Selection(
        [("release", "Release"), ("override", "Confirm with Override"), ("refuse", "Refuse Release")],
        required=True,
        default="release",
    )
    message = fields.Text(related="order_id.credit_block_message")
    order_state = fields.Selection(related="order_id.state")
    reason = fields.Text(required=True)
    date_end = fields.Date(string="Release Valid Until")
    currency_id = fields.Many2one(related="order_id.currency_id")
    amount = fields.Monetary(
        string="Release Up To",
        compute="_compute_amount",
        store=True,
        readonly=False,
        help="Order total the release covers (at least the current total). A higher amount lets a "
        "confirmed order grow up to it without a new release.",
    )

    @api.depends("order_id")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = wizard.order_id.amount_total

    def action_apply(self):
        self.ensure_one()
        if self.move_id:
            self.move_id._credit_release(self.reason)
        elif self.mode == "override":
            self.order_id._credit_override_confirm(self.reason)
        elif self.mode == "refuse":
            self.order_id._credit_refuse_release(self.reason)
        else:
            self.order_id._credit_release(self.reason, self.date_end, amount=self.amount)
        return {"type": "ir.actions.act_window_close"}
