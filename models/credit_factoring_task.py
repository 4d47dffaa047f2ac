from odoo import fields, models


class CreditTask(models.Model):
    """Factoring: the task of the credit manager when an assignment goes above the
    factor's purchase limit for a customer."""

    _inherit = "credit.task"

    origin = fields.Selection(
        selection_add=[("factoring_limit", "Factor's Purchase Limit")],
        ondelete={"factoring_limit": "cascade"},
    )
