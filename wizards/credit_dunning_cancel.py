from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CreditDunningCancel(models.TransientModel):
    _name = "credit.dunning.cancel"
    _description = "Cancel Dunning Letters"

    run_ids = fields.Many2many("credit.dunning.run", string="Dunning Runs", readonly=True)
    letter_ids = fields.Many2many("credit.dunning.letter", string="Dunning Letters", readonly=True)
    reason = fields.Text(help="Kept on the run or letter with who cancelled it and when.")

    @api.model
    def _open_for(self, records):
        """The dialog cancelling ``records`` (dunning runs or letters)."""
        records.check_access("write")
        field = "run_ids" if records._name == "credit.dunning.run" else "letter_ids"
        wizard = self.create({field: [fields.Command.set(records.ids)]})
        return {
            "type": "ir.actions.act_window",
            "name": _("Cancel with a Reason"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_confirm(self):
        self.ensure_one()
        if not (self.reason or "").strip():
            raise UserError(_("Give a reason for the cancellation."))
        if self.run_ids:
            self.run_ids._action_cancel(self.reason)
        if self.letter_ids:
            self.letter_ids._action_cancel(self.reason)
        return {"type": "ir.actions.act_window_close"}
