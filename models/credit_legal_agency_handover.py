from odoo import _, models
from odoo.exceptions import UserError


class CreditAgencyHandover(models.Model):
    """Invoices claimed in an open court dunning case are not handed to a collection agency."""

    _inherit = "credit.agency.handover"

    def action_hand_over(self):
        for handover in self:
            taken = self.env["credit.legal.claim"]._taken_move_ids(handover.move_ids.ids)
            if taken:
                raise UserError(
                    _(
                        "The invoices %(moves)s are claimed in an open court dunning case.",
                        moves=", ".join(handover.move_ids.browse(sorted(taken)).mapped("name")),
                    )
                )
        return super().action_hand_over()
