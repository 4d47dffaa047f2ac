from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    credit_insurance_watch_days = fields.Integer(
        string="Insurance Reporting Lead Time (Days)",
        default=10,
        help="Overdue items of insured customers appear on the watch list, and a task is opened, "
        "this many days before the policy's reporting deadline.",
    )

    @api.constrains("credit_insurance_watch_days")
    def _check_credit_insurance_watch_days(self):
        for company in self:
            if company.credit_insurance_watch_days < 0:
                raise ValidationError(_("The insurance reporting lead time cannot be negative."))
