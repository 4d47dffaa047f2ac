from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CreditDunningPause(models.TransientModel):
    _name = "credit.dunning.pause"
    _description = "Pause or Exclude from Dunning"

    move_ids = fields.Many2many("account.move", string="Invoices")
    partner_ids = fields.Many2many("res.partner", string="Customers")
    reason = fields.Char(required=True)
    date_until = fields.Date(
        string="Paused Until", help="Dunning resumes on this date. Empty: excluded until resumed by hand."
    )

    @api.constrains("date_until")
    def _check_date_until(self):
        today = fields.Date.context_today(self)
        if any(wizard.date_until and wizard.date_until <= today for wizard in self):
            raise UserError(_("The end of the dunning pause must lie in the future."))

    def action_apply(self):
        self.ensure_one()
        if self.partner_ids:
            self.partner_ids._credit_dunning_pause(self.reason, self.date_until)
        if self.move_ids:
            self.move_ids._credit_dunning_pause(self.reason, self.date_until)
        return {"type": "ir.actions.act_window_close"}
