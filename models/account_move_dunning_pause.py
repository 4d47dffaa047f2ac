from odoo import _, api, models

from .credit_dunning_pause_mixin import DUNNING_PAUSE_FIELDS


class AccountMove(models.Model):
    """The dunning pause of invoices (``credit.dunning.pause.mixin``) and its guard, one for every
    way in: create, write, ``default_*`` context keys and the pause / resume actions."""

    _name = "account.move"
    _inherit = ["account.move", "credit.dunning.pause.mixin"]

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        # a default_* context key must not pre-set a pause for others than the credit team
        values = super().default_get(fields_list)
        if not self._credit_is_credit_team():
            for name in DUNNING_PAUSE_FIELDS.intersection(values):
                del values[name]
        return values

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_credit_dunning_pause_write(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_credit_dunning_pause_write(vals)
        return super().write(vals)

    # === BUSINESS METHODS === #
    def _check_credit_dunning_pause_write(self, vals):
        if DUNNING_PAUSE_FIELDS.intersection(vals):
            self._check_credit_dunning_pause_rights()

    def _credit_dunning_pause_wizard_context(self):
        return {"default_move_ids": self.ids}

    def _credit_dunning_pause_refusal(self):
        return _("Only the credit team pauses or resumes the dunning of invoices.")
