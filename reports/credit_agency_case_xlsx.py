import io

import xlsxwriter

from odoo import _, api, models
from odoo.tools import format_date, html2plaintext

from ..lib.xlsx import excel_date_format


class CreditAgencyCaseXlsx(models.AbstractModel):
    """The case file of a collection agency handover as an XLSX workbook: one sheet each for
    the invoices, dunning letters, promises to pay, disputes and notes."""

    _name = "credit.agency.case.xlsx"
    _description = "Collection Agency Case File (XLSX)"

    def _sheets(self):
        """Sheets as data: (title, data key, [(header, width, format, value getter)]).

        Long: the columns declared as data, one line each (as OCA's XLSX reports declare them)."""

        def selection(record, field):
            return dict(record._fields[field]._description_selection(record.env)).get(record[field], "")

        return [
            (
                _("Invoices"),
                "moves",
                [
                    (_("Number"), 18, "text", lambda m: m.name),
                    (_("Invoice Date"), 12, "date", lambda m: m.invoice_date),
                    (_("Due Date"), 12, "date", lambda m: m.invoice_date_due),
                    (_("Reference"), 20, "text", lambda m: m.ref or m.payment_reference or ""),
                    (_("Total"), 14, "money", lambda m: m.amount_total_signed),
                    (_("Open"), 14, "money", lambda m: m.amount_residual_signed),
                    (_("Dunning Level"), 18, "text", lambda m: m.credit_dunning_level_id.name or ""),
                ],
            ),
            (
                _("Dunning Letters"),
                "letters",
                [
                    (_("Date"), 12, "date", lambda letter: letter.dunning_date),
                    (_("Level"), 20, "text", lambda letter: letter.level_id.name or ""),
                    (_("Invoices"), 10, "int", lambda letter: letter.invoice_count),
                    (_("Open Amount"), 14, "money", lambda letter: letter.amount_residual),
                    (_("Fee"), 10, "money", lambda letter: letter.fee_amount),
                ],
            ),
            (
                _("Promises"),
                "promises",
                [
                    (_("Promised Date"), 12, "date", lambda p: p.date_promised),
                    (_("Amount"), 14, "money", lambda p: p.amount),
                    (_("Channel"), 12, "text", lambda p: selection(p, "channel")),
                    (_("Status"), 12, "text", lambda p: selection(p, "state")),
                    (_("Recorded By"), 18, "text", lambda p: p.user_id.name or ""),
                    (_("Note"), 40, "text", lambda p: p.note or ""),
                ],
            ),
            (
                _("Disputes"),
                "disputes",
                [
                    (_("Reference"), 16, "text", lambda d: d.name),
                    (_("Reason"), 14, "text", lambda d: selection(d, "reason")),
                    (_("Amount"), 14, "money", lambda d: d.amount),
                    (_("Status"), 12, "text", lambda d: selection(d, "state")),
                    (_("Description"), 40, "text", lambda d: d.description or ""),
                ],
            ),
            (
                _("Notes"),
                "notes",
                [
                    (_("Date"), 18, "datetime", lambda n: n.date),
                    (_("Author"), 20, "text", lambda n: n.author_id.name or ""),
                    (_("On"), 20, "text", lambda n: n.record_name or ""),
                    (_("Note"), 80, "text", lambda n: html2plaintext(n.body or "").strip()),
                ],
            ),
        ]

    @api.model
    def _generate(self, handover):
        """XLSX bytes of the case file of ``handover`` (one record)."""
        handover.ensure_one()
        handover.check_access("read")
        data = handover._case_file_data()
        currency = handover.currency_id
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
        money = "#,##0.%s" % ("0" * currency.decimal_places) if currency.decimal_places else "#,##0"
        # dates as the user reads them (04.12.2026 in German), as in the module's other exports
        language = self.env["res.lang"]._lang_get(self.env.lang or "en_US")
        date_format = excel_date_format(language.date_format if language else "%Y-%m-%d")
        time_format = excel_date_format(language.time_format if language else "%H:%M:%S")
        formats = {
            "title": workbook.add_format({"bold": True, "font_size": 13}),
            "header": workbook.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1}),
            "text": workbook.add_format({"text_wrap": True, "valign": "top"}),
            "int": workbook.add_format({}),
            "money": workbook.add_format({"num_format": money}),
            "date": workbook.add_format({"num_format": date_format}),
            "datetime": workbook.add_format({"num_format": "%s %s" % (date_format, time_format)}),
        }
        title = _(
            "%(handover)s: %(partner)s, handed over to %(agency)s on %(date)s (%(currency)s)",
            handover=handover.name,
            partner=handover.partner_id.display_name,
            agency=handover.agency_id.display_name,
            date=format_date(self.env, handover.date),
            currency=currency.name,
        )
        for sheet_title, key, columns in self._sheets():
            sheet = workbook.add_worksheet(sheet_title[:31])
            sheet.write(0, 0, title, formats["title"])
            for col, (header, width, _fmt, _getter) in enumerate(columns):
                sheet.set_column(col, col, width)
                sheet.write(2, col, header, formats["header"])
            sheet.freeze_panes(3, 0)
            for row, record in enumerate(data[key], start=3):
                for col, (_header, _width, fmt, getter) in enumerate(columns):
                    value = getter(record)
                    if value in (False, None):
                        sheet.write_blank(row, col, None, formats[fmt])
                    elif fmt in ("date", "datetime"):
                        sheet.write_datetime(row, col, value, formats[fmt])
                    else:
                        sheet.write(row, col, value, formats[fmt])
        workbook.close()
        return buffer.getvalue()
