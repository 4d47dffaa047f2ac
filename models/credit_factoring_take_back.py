from odoo import api, fields, models


class CreditFactoringTakeBack(models.TransientModel):
    """The factor hands invoices back (recourse): date and reason, then the invoices return to
    the company's own collections."""

    _name = "credit.factoring.take.back"
    _description = "Take Back Invoices from the Factor"

    # === FIELDS === #
    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    date = fields.Date(string="Taken Back On", required=True, default=fields.Date.context_today)
    reason = fields.Char(required=True)

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "account.move" and "move_ids" in fields_list:
            values["move_ids"] = [fields.Command.set(self.env.context.get("active_ids") or [])]
        return values

    # === ACTIONS === #
    def action_confirm(self):
        self.ensure_one()
        self.move_ids._credit_factoring_take_back(self.reason, self.date)
        return {"type": "ir.actions.act_window_close"}
