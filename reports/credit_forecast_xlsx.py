from odoo import _, api, fields, models
from odoo.tools import format_date


class CreditForecastXlsx(models.AbstractModel):
    """The cash-in forecast (credit.forecast._compute) as an XLSX workbook: weeks and months."""

    _name = "credit.forecast.xlsx"
    _description = "Cash-in Forecast Export (XLSX)"

    def _columns(self, period_header):
        return [
            {"key": "start", "header": period_header, "type": "date", "width": 14},
            {"key": "best", "header": _("Best Case"), "type": "money", "width": 18, "total": True},
            {"key": "expected", "header": _("Expected"), "type": "money", "width": 18, "total": True},
            {"key": "worst", "header": _("Worst Case"), "type": "money", "width": 18, "total": True},
        ]

    @api.model
    def _generate(self, company=None, today=None):
        writer = self.env["credit.xlsx.writer"]
        company = writer._check_export_access("res.partner", company)
        self = self.with_company(company)
        today = fields.Date.to_date(today) or fields.Date.context_today(self)
        self.env.flush_all()
        forecast = self.env["credit.forecast"].with_company(company)._compute(today)
        book = writer.with_company(company)._new_book(company.currency_id)
        title = _(
            "Cash-in forecast of %(company)s (%(currency)s) from %(date)s",
            company=company.name,
            currency=company.currency_id.name,
            date=format_date(self.env, today),
        )
        subtitle = _(
            "Best case: every open item paid at its due date; expected: plus the customer's "
            "average days late; worst case: plus the customer's maximum days late."
        )
        for key, name, header in (
            ("weeks", _("Weeks"), _("Week Starting")),
            ("months", _("Months"), _("Month")),
        ):
            sheet = book.add_sheet(name, self._columns(header), title=title, subtitle=subtitle)
            sheet.write_rows(forecast[key])
            sheet.write_total(_("Total"))
        return book.close()

    @api.model
    def action_download(self):
        return self.env["credit.xlsx.writer"]._download_action(
            self._generate(),
            _("Cash-in forecast %(date)s.xlsx", date=fields.Date.to_string(fields.Date.context_today(self))),
        )
