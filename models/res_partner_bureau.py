from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..lib.protected_fields import drop_protected_defaults
from .res_partner import CREDIT_PROFILE_WRITE, CREDIT_READ_GROUPS

# Set by Credit Managers only (the credit profile's guard, for the bureau monitoring).
BUREAU_PROTECTED_FIELDS = frozenset({"credit_bureau_watch"})


class ResPartner(models.Model):
    _inherit = "res.partner"

    # === FIELDS === #
    credit_bureau_watch = fields.Boolean(
        string="Bureau Monitoring",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="Watched customer: an imported bureau result that lowers the score by more than the "
        "company's threshold, or that carries a negative flag (insolvency ...), opens a task for "
        "the credit manager.",
    )
    credit_bureau_identifier_ids = fields.One2many(
        "credit.bureau.identifier",
        "partner_id",
        string="Bureau Identifiers",
        groups="credit_control.credit_control_group_user",
    )

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        return drop_protected_defaults(self, values, BUREAU_PROTECTED_FIELDS, self._is_credit_manager())

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        kept = set(default or ())
        for vals in vals_list:
            for name in BUREAU_PROTECTED_FIELDS - kept:
                vals.pop(name, None)
        return vals_list

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_bureau_watch_access(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_bureau_watch_access(vals)
        return super().write(vals)

    # === BUSINESS METHODS === #
    def _check_bureau_watch_access(self, vals):
        if self.env.su or self.env.context.get("credit_profile_write") is CREDIT_PROFILE_WRITE:
            return
        if BUREAU_PROTECTED_FIELDS.intersection(vals) and not self._is_credit_manager():
            raise AccessError(
                self.env._("Only Credit Managers may put a customer under bureau monitoring or take it off.")
            )
