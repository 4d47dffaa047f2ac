import io

import xlsxwriter

from odoo import _, api, fields, models

from .credit_aging_report import BUCKETS


class CreditAgingXlsx(models.AbstractModel):
    """The aging as an XLSX workbook: one row per customer with its buckets."""

    _name = "credit.aging.xlsx"
    _description = "Receivables Aging Export (XLSX)"

    def _columns(self):
        columns = [{"header": _("Customer"), "key": "partner", "width": 40, "format": "text"}]
        labels = dict(BUCKETS)
        for key, _label in BUCKETS:
            columns.append(
                {
                    "header": labels[key] if key != "not_due" else _("Not Due"),
                    "key": key,
                    "width": 16,
                    "format": "money",
                }
            )
        columns.append({"header": _("Total"), "key": "total", "width": 18, "format": "money"})
        return columns

    @api.model
    def _generate(self, as_of):
        """XLSX bytes of the aging as of ``as_of`` in the current company, as the user may see it
        (record rules of the aging report apply)."""
        as_of = fields.Date.to_date(as_of)
        report = self.env["credit.aging.report"]
        report._check_aging_date(as_of)
        rows = report.with_context(aging_date=fields.Date.to_string(as_of))._read_group(
            [("company_id", "=", self.env.company.id)],
            ["partner_id"],
            ["amount_%s:sum" % key for key, _label in BUCKETS] + ["amount_open:sum"],
            order="partner_id",
        )
        currency = self.env.company.currency_id
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True})
        sheet = workbook.add_worksheet(_("Aging")[:31])
        money = "#,##0.%s" % ("0" * currency.decimal_places) if currency.decimal_places else "#,##0"
        formats = {
            "title": workbook.add_format({"bold": True, "font_size": 13}),
            "header": workbook.add_format(
                {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True}
            ),
            "text": workbook.add_format({}),
            "money": workbook.add_format({"num_format": money}),
            "total": workbook.add_format({"bold": True, "num_format": money, "top": 1}),
        }
        columns = self._columns()
        title = _(
            "Receivables aging as of %(date)s, %(company)s (%(currency)s)",
            date=fields.Date.to_string(as_of),
            company=self.env.company.name,
            currency=currency.name,
        )
        sheet.write(0, 0, title, formats["title"])
        for col, column in enumerate(columns):
            sheet.set_column(col, col, column["width"])
            sheet.write(2, col, column["header"], formats["header"])
        sheet.freeze_panes(3, 1)
        totals = [0.0] * len(columns)
        row = 3
        for partner, *amounts in rows:
            values = {"partner": partner.display_name, "total": amounts[-1]}
            values.update({key: amount for (key, _label), amount in zip(BUCKETS, amounts[:-1], strict=True)})
            for col, column in enumerate(columns):
                value = values[column["key"]]
                sheet.write(row, col, value, formats[column["format"]])
                if column["format"] == "money":
                    totals[col] += value
            row += 1
        sheet.autofilter(2, 0, max(row - 1, 2), len(columns) - 1)
        sheet.write(row, 0, _("Total"), formats["total"])
        for col in range(1, len(columns)):
            sheet.write(row, col, currency.round(totals[col]), formats["total"])
        workbook.close()
        return buffer.getvalue()

    @api.model
    def action_download(self, as_of):
        content = self._generate(as_of)
        attachment = self.env["ir.attachment"].create(
            {
                "name": _("Aging %(date)s.xlsx", date=fields.Date.to_string(fields.Date.to_date(as_of))),
                "raw": content,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%s?download=true" % attachment.id,
            "target": "download",
        }
