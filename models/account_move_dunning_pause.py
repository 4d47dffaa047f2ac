from odoo import _, api, models
from odoo.exceptions import AccessError

# Dunning pause of an invoice: the credit team's decision (collectors and managers).
DUNNING_PAUSE_FIELDS = frozenset(
    {"credit_dunning_pause", "credit_dunning_pause_reason", "credit_dunning_pause_until"}
)


class AccountMove(models.Model):
    """The guard on the dunning pause of invoices, one for every way in: create, write,
    ``default_*`` context keys and the pause / resume actions (see account_move.py)."""

    _inherit = "account.move"

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
    def _credit_is_credit_team(self):
        return self.env.su or self.env.user.has_group("credit_control.credit_control_group_user")

    def _check_credit_dunning_pause_write(self, vals):
        if DUNNING_PAUSE_FIELDS.intersection(vals) and not self._credit_is_credit_team():
            raise AccessError(_("Only the credit team pauses or resumes the dunning of invoices."))

    def _check_credit_dunning_pause_rights(self):
        self._check_credit_dunning_pause_write(DUNNING_PAUSE_FIELDS)
