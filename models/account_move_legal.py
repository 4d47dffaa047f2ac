from odoo import api, models


class AccountMove(models.Model):
    """Invoices claimed in an open court dunning case leave normal dunning."""

    _inherit = "account.move"

    @api.model
    def _credit_dunning_blocked_move_ids(self, move_ids, date):
        return super()._credit_dunning_blocked_move_ids(move_ids, date) | self.env[
            "credit.legal.case"
        ]._blocked_move_ids(move_ids)
