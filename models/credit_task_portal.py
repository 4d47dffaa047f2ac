from odoo import fields, models


class CreditTask(models.Model):
    """Tasks opened by what a customer did on the portal."""

    _inherit = "credit.task"

    origin = fields.Selection(
        selection_add=[("portal", "Customer Portal")], ondelete={"portal": "set default"}
    )
    plan_request_id = fields.Many2one(
        "credit.payment.plan.request",
        string="Payment Plan Request",
        check_company=True,
        index="btree_not_null",
        ondelete="cascade",
    )
