from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CreditDunningLetter(models.Model):
    """A validated letter of the last dunning level opens a court dunning case."""

    _inherit = "credit.dunning.letter"

    credit_legal_last_level = fields.Boolean(
        string="Last Dunning Level", compute="_compute_credit_legal_last_level"
    )

    @api.depends("level_id", "state")
    def _compute_credit_legal_last_level(self):
        last = {}
        for company in self.company_id:
            levels = self.env["credit.dunning.level"].search([("company_id", "=", company.id)])
            last[company.id] = max(levels, key=lambda level: level._rank()) if levels else False
        for letter in self:
            letter.credit_legal_last_level = bool(
                letter.state == "done"
                and letter.level_id
                and letter.level_id == last.get(letter.company_id.id)
            )

    def action_credit_legal_case(self):
        """A draft court dunning case of the letter's customer with its still open invoices."""
        self.ensure_one()
        moves = self.line_ids.filtered(
            lambda line: line.line_type == "invoice"
            and line.move_id.payment_state in ("not_paid", "partial")
            and line.move_id.currency_id == self.company_id.currency_id
        ).move_id
        if not moves:
            raise UserError(_("The invoices of this letter are paid: there is nothing to claim."))
        case = self.env["credit.legal.case"].create(
            {"partner_id": self.partner_id.commercial_partner_id.id, "company_id": self.company_id.id}
        )
        self.env["credit.legal.claim"].create([{"case_id": case.id, "move_id": move.id} for move in moves])
        return {
            "type": "ir.actions.act_window",
            "res_model": "credit.legal.case",
            "res_id": case.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
