from odoo import fields, models


class CreditAgingOpen(models.TransientModel):
    """Asks for the date the aging is computed on (and, for the XLSX export, its grouping)."""

    _name = "credit.aging.open"
    _description = "Open the Receivables Aging"

    aging_date = fields.Date(string="As Of", required=True, default=fields.Date.context_today)
    group_by = fields.Selection(
        [
            ("partner_id", "Customer"),
            ("rating_id", "Risk Rating"),
            ("escalation_level_id", "Escalation Level"),
            ("user_id", "Salesperson"),
            ("country_id", "Country"),
            ("industry_id", "Industry"),
        ],
        string="Export Grouped By",
        default="partner_id",
        required=True,
    )
    include_items = fields.Boolean(string="Export Open Items", help="Add a sheet with every open item.")

    def action_open(self):
        self.ensure_one()
        return self.env["credit.aging.report"].action_open(self.aging_date)

    def action_export_xlsx(self):
        self.ensure_one()
        return self.env["credit.aging.xlsx"].action_download(
            self.aging_date, group_by=self.group_by, detail=self.include_items
        )
