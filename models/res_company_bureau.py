from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """The company's settings of the credit bureau monitoring."""

    _inherit = "res.company"

    credit_bureau_threshold = fields.Integer(
        string="Bureau Alert Threshold",
        default=10,
        help="A watched customer whose imported score (0-100) falls by more than these points against "
        "the previous check of the same bureau gets a task for its credit manager.",
    )
    credit_bureau_propose_hold = fields.Boolean(
        string="Bureau Alert Proposes a Hold",
        help="A bureau alert also proposes a credit hold, which the credit manager confirms or dismisses.",
    )

    @api.constrains("credit_bureau_threshold")
    def _check_credit_bureau_threshold(self):
        for company in self:
            if not 0 <= company.credit_bureau_threshold <= 100:
                raise ValidationError(
                    self.env._("The bureau alert threshold must lie between 0 and 100 score points.")
                )
