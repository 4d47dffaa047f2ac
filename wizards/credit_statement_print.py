from odoo import _, fields, models
from odoo.exceptions import UserError


class CreditStatementPrint(models.TransientModel):
    """Asks for the date of the customer account statement."""

    _name = "credit.statement.print"
    _description = "Print Customer Account Statements"

    date = fields.Date(string="As Of", required=True, default=fields.Date.context_today)
    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)

    def action_print(self):
        self.ensure_one()
        if self.date > fields.Date.context_today(self):
            raise UserError(_("A statement cannot be dated in the future (%(date)s).", date=self.date))
        data = self._get_report_data()
        return self.env.ref("credit_control.credit_statement_report_action").report_action(
            self.env["res.partner"].browse(data["partner_ids"]), data=data
        )

    def _get_report_data(self):
        return {
            "date": fields.Date.to_string(self.date),
            "company_id": self.env.company.id,
            "partner_ids": self.partner_ids.commercial_partner_id.ids,
        }
