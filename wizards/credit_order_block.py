from odoo import fields, models


class CreditOrderBlock(models.TransientModel):
    """The dialog a salesperson sees when the credit check refuses a confirmation."""

    _name = "credit.order.block"
    _description = "Blocked Order Explanation"

    order_id = fields.Many2one("sale.order", required=True, readonly=True)
    message = fields.Text(related="order_id.credit_block_message")
    credit_block_state = fields.Selection(related="order_id.credit_block_state")
    note = fields.Text(string="Note for the Credit Team")

    def action_request_release(self):
        self.order_id.action_request_credit_release(note=self.note)
        return self.order_id._credit_release_requested_notification()
