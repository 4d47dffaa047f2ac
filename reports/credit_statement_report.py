from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .credit_aging_report import BUCKETS


class ReportCreditStatement(models.AbstractModel):
    """Customer account statement: the open items of each customer as of a date (only
    reconciliations dated on or before it count, as in the aging), oldest first, with a running
    balance and the aging buckets, in the current company's currency.

    ``data`` may carry ``date`` (default today), ``company_id`` (default the current company) and
    ``partner_ids`` (when no ids are given).
    Readers: the credit team (read access to the aging), in one of their companies."""

    _name = "report.credit_control.report_credit_statement"
    _description = "Customer Account Statement"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        company = self.env["credit.xlsx.writer"]._check_export_access(
            "credit.aging.report", data.get("company_id")
        )
        self = self.with_company(company)
        as_of = fields.Date.to_date(data.get("date")) or fields.Date.context_today(self)
        if as_of > fields.Date.context_today(self):
            raise UserError(_("A statement cannot be dated in the future (%(date)s).", date=as_of))
        # printed from the date wizard the web client sends the data without ids in the URL
        partners = (
            self.env["res.partner"].browse(docids or data.get("partner_ids") or []).commercial_partner_id
        )
        partners.check_access("read")
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "company": company,
            "as_of": as_of,
            "statements": self._get_statements(partners, as_of, company),
        }

    @api.model
    def _get_statements(self, partners, as_of, company):
        """Per commercial partner id: ``lines`` (dicts with the item, its open amount and the
        running balance), ``total``, ``overdue`` and ``buckets`` (key, amount; both net of the open
        credits, which offset the oldest invoices first) — one query."""
        rows = self.env["credit.aging.report"]._get_aging(
            as_of, [("partner_id", "in", partners.ids), ("company_id", "=", company.id)]
        )
        currency = company.currency_id
        statements = {
            partner.id: {
                "lines": [],
                "total": 0.0,
                "overdue": 0.0,
                "buckets": dict.fromkeys(dict(BUCKETS), 0.0),
            }
            for partner in partners
        }
        for row in rows.sorted(lambda r: (r.date, r.date_maturity or r.date, r.move_name or "", r.id)):
            statement = statements[row.partner_id.id]
            statement["total"] = currency.round(statement["total"] + row.amount_open)
            # past-due invoices net of the customer's open credits (oldest first), as the aging
            if row.days_overdue > 0:
                statement["overdue"] += row.amount_net
            statement["buckets"][row.bucket] += row.amount_net
            statement["lines"].append(
                {
                    "name": row.move_name or row.move_id.display_name,
                    "ref": row.move_id.ref if row.move_id.ref != row.move_name else "",
                    "date": row.date,
                    "date_maturity": row.date_maturity,
                    "days_overdue": row.days_overdue,
                    "amount": row.amount_open,
                    "balance": statement["total"],
                }
            )
        for statement in statements.values():
            statement["overdue"] = currency.round(statement["overdue"])
            statement["buckets"] = [
                (key, currency.round(statement["buckets"][key])) for key, _label in BUCKETS
            ]
        return statements
