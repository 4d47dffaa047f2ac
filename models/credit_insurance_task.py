from odoo import fields, models


class CreditTask(models.Model):
    """Tasks opened before an insured customer's overdue items reach the policy's reporting
    deadline (credit.insurance.watch._cron_insurance_deadlines)."""

    _inherit = "credit.task"

    task_type = fields.Selection(
        selection_add=[("insurance", "Insurance Notification")], ondelete={"insurance": "set default"}
    )
    origin = fields.Selection(
        selection_add=[("insurance_deadline", "Insurance Reporting Deadline")],
        ondelete={"insurance_deadline": "set default"},
    )
