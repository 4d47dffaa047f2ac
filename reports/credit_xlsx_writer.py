"""One XLSX writer for every credit control export.

Usage (from any model method)::

    writer = self.env["credit.xlsx.writer"]
    company = writer._check_export_access("credit.aging.report", company)  # AccessError if not allowed
    book = writer.with_company(company)._new_book()
    sheet = book.add_sheet(
        _("Aging"),
        [
            {"key": "partner", "field": ("credit.aging.report", "partner_id"), "width": 40},
            {"key": "amount", "header": _("Open"), "type": "money", "total": True},
            {"key": "date_maturity", "field": ("credit.aging.report", "date_maturity"), "type": "date"},
        ],
        title=_("Receivables aging as of %(date)s", date=...),
    )
    for row in rows:                      # dicts (by column key) or sequences (in column order)
        sheet.write_row(row)
    sheet.write_total(_("Total"))         # sums of the columns with "total": True
    return writer._download_action(book.close(), _("Aging.xlsx"))

Columns: ``key`` (the row dict key), ``header`` (text) or ``field`` = (model, field name) whose
string is translated into the user's language, ``type`` one of text (default), money (company
currency of the environment, or ``currency`` given to ``add_sheet``), integer, float, percent
(a value of 12.5 is shown as 12.5 %), date, datetime, ``width`` (characters), ``total``.
Values: records are written as their display name, ``False``/``None`` as an empty cell.

The workbook and its sheets are plain classes in :mod:`..lib.xlsx` (streamed, see there).
"""

from odoo import _, api, models
from odoo.exceptions import AccessError

from ..lib.xlsx import XLSX_MIMETYPE, XlsxBook


class CreditXlsxWriter(models.AbstractModel):
    """Entry point of the XLSX exports: access check, workbook in the company's currency and the
    user's language, download action. See the module docstring for the API."""

    _name = "credit.xlsx.writer"
    _description = "Credit Control XLSX Writer"

    @api.model
    def _check_export_access(
        self, model_name, company=None, group="credit_control.credit_control_group_user"
    ):
        """The company to export (default: the current one), after checking that the user is in
        ``group`` (default: the credit team), may read ``model_name`` (ACL) and that the company
        is one of the user's companies. AccessError otherwise."""
        company = company or self.env.company
        if isinstance(company, int):
            company = self.env["res.company"].browse(company)
        if not self.env.su and company not in self.env.user.company_ids:
            raise AccessError(
                _(
                    "You may not export data of the company %(company)s: it is not one of your companies.",
                    company=company.sudo().display_name,
                )
            )
        if group and not self.env.su and not self.env.user.has_group(group):
            raise AccessError(_("Only the credit team may export credit control data."))
        self.env[model_name].check_access("read")
        return company

    @api.model
    def _new_book(self, currency=None, fast_rows=None):
        """A streamed :class:`XlsxBook` in the current company's currency and the user's language
        (``fast_rows``: force the data row writer, see the module docstring; tests only)."""
        return XlsxBook(
            self.env, currency or self.env.company.currency_id, lang=self.env.lang, fast_rows=fast_rows
        )

    @api.model
    def _download_action(self, content, filename):
        """An action downloading ``content`` as ``filename`` (a private attachment of the user)."""
        attachment = self.env["ir.attachment"].create(
            {"name": filename, "raw": content, "mimetype": XLSX_MIMETYPE}
        )
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%s?download=true" % attachment.id,
            "target": "download",
        }
