from odoo import _, api, fields, models
from odoo.tools import format_date

from .credit_aging_report import BUCKETS

AGING_GROUPS = ("partner_id", "rating_id", "escalation_level_id", "user_id", "country_id", "industry_id")


class CreditAgingXlsx(models.AbstractModel):
    """The aging as an XLSX workbook: one row per customer (or rating, escalation level, …) with
    its buckets, optionally followed by a sheet with every open item."""

    _name = "credit.aging.xlsx"
    _description = "Receivables Aging Export (XLSX)"

    def _columns(self, group_by="partner_id"):
        report = self.env["credit.aging.report"]
        labels = dict(report._fields["bucket"]._description_selection(self.env))
        header = (
            _("Customer")
            if group_by == "partner_id"
            else report._fields[group_by]._description_string(self.env)
        )
        columns = [{"key": "group", "header": header, "width": 40}]
        for key, _label in BUCKETS:
            columns.append({"key": key, "header": labels[key], "type": "money", "total": True})
        columns.append({"key": "total", "header": _("Total"), "type": "money", "width": 18, "total": True})
        return columns

    def _detail_columns(self):
        model = "credit.aging.report"
        return [
            {"key": "move_name", "field": (model, "move_name"), "width": 22},
            {"key": "partner_id", "field": (model, "partner_id"), "width": 36},
            {"key": "date", "field": (model, "date"), "type": "date"},
            {"key": "date_maturity", "field": (model, "date_maturity"), "type": "date"},
            {"key": "days_overdue", "field": (model, "days_overdue"), "type": "integer"},
            {"key": "bucket", "field": (model, "bucket"), "width": 16},
            {"key": "rating", "field": (model, "rating_id"), "width": 14},
            {"key": "escalation", "field": (model, "escalation_level_id"), "width": 18},
            {"key": "amount_open", "field": (model, "amount_open"), "type": "money", "total": True},
        ]

    @api.model
    def _generate(self, as_of, group_by="partner_id", detail=False, company=None):
        """XLSX bytes of the aging as of ``as_of`` in ``company`` (default: the current one), as
        the user may see it: AccessError without read access to the aging or for a company that
        is not one of the user's; record rules of the aging report apply."""
        if group_by not in AGING_GROUPS:
            raise ValueError("unknown aging grouping %r" % group_by)
        writer = self.env["credit.xlsx.writer"]
        company = writer._check_export_access("credit.aging.report", company)
        self = self.with_company(company)
        as_of = fields.Date.to_date(as_of)
        report = self.env["credit.aging.report"].with_company(company)
        report._check_aging_date(as_of)
        report = report.with_context(aging_date=fields.Date.to_string(as_of))
        self.env.flush_all()
        measures = ["amount_%s:sum" % key for key, _label in BUCKETS] + ["amount_open:sum"]
        groups = report._read_group([("company_id", "=", company.id)], [group_by], measures, order=group_by)
        currency = company.currency_id
        book = writer.with_company(company)._new_book(currency)
        title = _(
            "Receivables aging as of %(date)s, %(company)s (%(currency)s)",
            date=format_date(self.env, as_of),
            company=company.name,
            currency=currency.name,
        )
        sheet = book.add_sheet(_("Aging"), self._columns(group_by), title=title)
        for group, *amounts in groups:
            values = {"group": group.display_name if group else _("None"), "total": amounts[-1]}
            values.update({key: amount for (key, _label), amount in zip(BUCKETS, amounts[:-1], strict=True)})
            sheet.write_row(values)
        sheet.write_total(_("Total"))
        if detail:
            self._write_detail(book, report, company, title)
        return book.close()

    def _write_detail(self, book, report, company, title):
        """One row per open item, straight from the aging query (streamed, no records)."""
        labels = dict(report._fields["bucket"]._description_selection(self.env))
        sheet = book.add_sheet(_("Open Items"), self._detail_columns(), title=title)
        query = report._search([("company_id", "=", company.id)], order="date_maturity, id")
        rows = self.env.execute_query(
            query.select(
                "credit_aging_report.move_name",
                "credit_aging_report.partner_id",
                "credit_aging_report.date",
                "credit_aging_report.date_maturity",
                "credit_aging_report.days_overdue",
                "credit_aging_report.bucket",
                "credit_aging_report.rating_id",
                "credit_aging_report.escalation_level_id",
                "credit_aging_report.amount_open",
            )
        )
        names = {}
        for model, index in (("res.partner", 1), ("credit.rating", 6), ("credit.dunning.level", 7)):
            records = self.env[model].browse({row[index] for row in rows if row[index]})
            # sudo: names of the customers, ratings and levels of rows the user may already see
            names[index] = {rec["id"]: rec["display_name"] for rec in records.sudo().read(["display_name"])}
        for row in rows:
            sheet.write_row(
                [
                    row[0],
                    names[1].get(row[1]),
                    row[2],
                    row[3],
                    row[4],
                    labels.get(row[5]),
                    names[6].get(row[6]),
                    names[7].get(row[7]),
                    row[8],
                ]
            )
        sheet.write_total(_("Total"))

    @api.model
    def action_download(self, as_of, group_by="partner_id", detail=False):
        content = self._generate(as_of, group_by=group_by, detail=detail)
        return self.env["credit.xlsx.writer"]._download_action(
            content, _("Aging %(date)s.xlsx", date=fields.Date.to_string(fields.Date.to_date(as_of)))
        )
