from odoo import fields, models


class CreditTask(models.Model):
    """Tasks opened by the bureau monitoring."""

    _inherit = "credit.task"

    # === FIELDS === #
    origin = fields.Selection(
        selection_add=[("bureau_alert", "Bureau Alert")], ondelete={"bureau_alert": "cascade"}
    )
    bureau_check_id = fields.Many2one(
        "credit.check", string="Bureau Check", check_company=True, index="btree_not_null", readonly=True
    )
    bureau_hold_state = fields.Selection(related="bureau_check_id.bureau_hold_state")

    # === ACTIONS === #
    def action_bureau_confirm_hold(self):
        self.ensure_one()
        return self.bureau_check_id.action_bureau_confirm_hold()

    def action_bureau_dismiss_hold(self):
        self.ensure_one()
        return self.bureau_check_id.action_bureau_dismiss_hold()
