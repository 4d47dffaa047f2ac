from odoo import api, models


class AccountMove(models.Model):
    """Dunning pauses while a payment plan request of the customer's portal waits."""

    _inherit = "account.move"

    @api.model
    def _credit_dunning_blocked_move_ids(self, move_ids, date):
        return super()._credit_dunning_blocked_move_ids(move_ids, date) | self.env[
            "credit.payment.plan.request"
        ]._blocked_move_ids(move_ids)
