from odoo import fields, models


class CreditAgingOpen(models.TransientModel):
    """Asks for the date the aging is computed on."""

    _name = "credit.aging.open"
    _description = "Open the Receivables Aging"

    aging_date = fields.Date(string="As Of", required=True, default=fields.Date.context_today)

    def action_open(self):
        self.ensure_one()
        return self.env["credit.aging.report"].action_open(self.aging_date)

    def action_export_xlsx(self):
        self.ensure_one()
        return self.env["credit.aging.xlsx"].action_download(self.aging_date)
