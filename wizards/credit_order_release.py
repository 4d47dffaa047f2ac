from odoo import fields, models


class CreditOrderRelease(models.TransientModel):
    """A Credit Manager releases a blocked order or confirms it with an override."""

    _name = "credit.order.release"
    _description = "Credit Release of an Order"

    order_id = fields.Many2one("sale.order", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    mode = fields.Selection(
        [("release", "Release"), ("override", "Confirm with Override")], required=True, default="release"
    )
    message = fields.Text(related="order_id.credit_block_message")
    reason = fields.Text(required=True)
    date_end = fields.Date(string="Release Valid Until")

    def action_apply(self):
        self.ensure_one()
        if self.move_id:
            self.move_id._credit_release(self.reason)
        elif self.mode == "override":
            self.order_id._credit_override_confirm(self.reason)
        else:
            self.order_id._credit_release(self.reason, self.date_end)
        return {"type": "ir.actions.act_window_close"}
