from odoo import api, models
from odoo.tools import SQL


class AccountMove(models.Model):
    """Dunning pauses while a payment plan request of the customer's portal waits."""

    _inherit = "account.move"

    @api.model
    def _credit_dunning_blocked_queries(self, date):
        # as credit.payment.plan.request._blocked_move_ids, in the hook's one query
        self.env["credit.payment.plan.request"].flush_model(["state", "move_ids"])
        return [
            *super()._credit_dunning_blocked_queries(date),
            SQL(
                """
            SELECT rel.move_id, NULL::integer
              FROM credit_plan_request_account_move_rel rel
              JOIN dunning_candidate cand ON cand.move_id = rel.move_id
              JOIN credit_payment_plan_request r ON r.id = rel.request_id
             WHERE r.state = 'requested'
                """
            ),
        ]
