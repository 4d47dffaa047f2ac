from odoo import api, models
from odoo.tools import SQL

from .credit_legal_case import OPEN_STATES


class AccountMove(models.Model):
    """Invoices claimed in an open court dunning case leave normal dunning."""

    _inherit = "account.move"

    @api.model
    def _credit_dunning_blocked_queries(self, date):
        # as credit.legal.claim._taken_move_ids, in the hook's one query
        self.env["credit.legal.claim"].flush_model(["move_id", "case_id"])
        self.env["credit.legal.case"].flush_model(["state"])
        return [
            *super()._credit_dunning_blocked_queries(date),
            SQL(
                """
            SELECT claim.move_id, NULL::integer
              FROM credit_legal_claim claim
              JOIN dunning_candidate cand ON cand.move_id = claim.move_id
              JOIN credit_legal_case c ON c.id = claim.case_id
             WHERE c.state IN %s
                """,
                OPEN_STATES,
            ),
        ]
