import io

import xlsxwriter

from odoo import _, api, fields, models


class CreditProblemCaseXlsx(models.AbstractModel):
    """The weekly problem-case list as an XLSX workbook: one row per case, as the user may see
    it (access rights and record rules of the problem cases apply)."""

    _name = "credit.problem.case.xlsx"
    _description = "Problem Cases Export (XLSX)"

    def _columns(self):
        return [
            {"header": _("Case"), "key": "case", "width": 20, "format": "text"},
            {"header": _("Customer"), "key": "partner", "width": 32, "format": "text"},
            {"header": _("Reference"), "key": "reference", "width": 22, "format": "text"},
            {"header": _("Owner"), "key": "owner", "width": 22, "format": "text"},
            {"header": _("Date"), "key": "date", "width": 12, "format": "date"},
            {"header": _("Days"), "key": "days", "width": 8, "format": "integer"},
            {"header": _("Amount"), "key": "amount", "width": 16, "format": "money"},
            {"header": _("Facts"), "key": "facts", "width": 44, "format": "text"},
            {"header": _("Next Step"), "key": "next_step", "width": 54, "format": "text"},
        ]

    @api.model
    def _generate(self, domain=None):
        cases = self.env["credit.problem.case"].search(domain or [])
        labels = dict(cases._fields["case_type"]._description_selection(self.env))
        currency = self.env.company.currency_id
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True})
        sheet = workbook.add_worksheet(_("Problem Cases")[:31])
        money = "#,##0.%s" % ("0" * currency.decimal_places) if currency.decimal_places else "#,##0"
        formats = {
            "title": workbook.add_format({"bold": True, "font_size": 13}),
            "header": workbook.add_format(
                {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True}
            ),
            "text": workbook.add_format({}),
            "integer": workbook.add_format({"num_format": "0"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "money": workbook.add_format({"num_format": money}),
            "total": workbook.add_format({"bold": True, "num_format": money, "top": 1}),
        }
        columns = self._columns()
        sheet.write(0, 0, cases._report_title() + " (%s)" % currency.name, formats["title"])
        for col, column in enumerate(columns):
            sheet.set_column(col, col, column["width"])
            sheet.write(2, col, column["header"], formats["header"])
        sheet.freeze_panes(3, 2)
        row = 3
        total = 0.0
        for case in cases:
            values = {
                "case": labels.get(case.case_type, ""),
                "partner": case.partner_id.display_name or "",
                "reference": case.reference or "",
                "owner": case.user_id.name or "",
                "date": case.date,
                "days": case.age_days if case.date else None,
                "amount": case.amount,
                "facts": case.facts or "",
                "next_step": case.next_step or "",
            }
            for col, column in enumerate(columns):
                value = values[column["key"]]
                if value is None or value is False:
                    sheet.write_blank(row, col, None, formats[column["format"]])
                elif column["format"] == "date":
                    sheet.write_datetime(row, col, fields.Datetime.to_datetime(value), formats["date"])
                else:
                    sheet.write(row, col, value, formats[column["format"]])
            total += case.amount
            row += 1
        sheet.autofilter(2, 0, max(row - 1, 2), len(columns) - 1)
        sheet.write(row, 0, _("Total"), formats["total"])
        sheet.write(row, 6, currency.round(total), formats["total"])
        workbook.close()
        return buffer.getvalue()

    @api.model
    def action_download(self, domain=None):
        content = self._generate(domain)
        attachment = self.env["ir.attachment"].create(
            {
                "name": _(
                    "Problem cases %(date)s.xlsx",
                    date=fields.Date.to_string(self.env["credit.problem.case"]._problem_date()),
                ),
                "raw": content,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%s?download=true" % attachment.id,
            "target": "download",
        }
