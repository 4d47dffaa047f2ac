from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    credit_use_predicted_dates = fields.Boolean(
        string="Use Predicted Payment Dates",
        default=False,
        help="The cash-in forecast and the worklist priority use the predicted payment dates "
        "(model where trained, the customer's average days late otherwise) instead of the rule.",
    )
