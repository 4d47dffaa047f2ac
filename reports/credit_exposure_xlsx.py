from odoo import _, api, fields, models
from odoo.tools import format_date


class CreditExposureXlsx(models.AbstractModel):
    """Exposure and limits list: one row per customer with its limit, exposure, available
    credit, overdue amount, usage and rating in the current company."""

    _name = "credit.exposure.xlsx"
    _description = "Credit Exposure and Limits Export (XLSX)"

    def _columns(self):
        partner = "res.partner"
        return [
            {"key": "name", "header": _("Customer"), "width": 40},
            {"key": "ref", "field": (partner, "ref"), "width": 14},
            {"key": "vat", "field": (partner, "vat"), "width": 18},
            {"key": "rating", "field": (partner, "credit_rating_id"), "width": 14},
            {"key": "score", "field": (partner, "credit_score"), "type": "integer"},
            {"key": "limit", "field": (partner, "credit_limit"), "type": "money", "total": True},
            {"key": "receivable", "field": (partner, "credit_receivable"), "type": "money", "total": True},
            {"key": "overdue", "field": (partner, "credit_overdue_amount"), "type": "money", "total": True},
            {"key": "overdue_days", "field": (partner, "credit_overdue_days"), "type": "integer"},
            {
                "key": "draft_invoices",
                "field": (partner, "credit_draft_invoices"),
                "type": "money",
                "total": True,
            },
            {"key": "orders", "field": (partner, "credit_uninvoiced_orders"), "type": "money", "total": True},
            {"key": "total", "field": (partner, "credit_exposure"), "type": "money", "total": True},
            {"key": "available", "field": (partner, "credit_available"), "type": "money", "total": True},
            {"key": "usage", "field": (partner, "credit_usage"), "type": "percent"},
            {"key": "hold", "field": (partner, "credit_hold"), "type": "text", "width": 10},
            {"key": "salesperson", "field": (partner, "user_id"), "width": 22},
        ]

    @api.model
    def _default_partners(self):
        """Customers of the list: commercial partners that are customers or have a limit."""
        return self.env["res.partner"].search(
            [("parent_id", "=", False), "|", ("customer_rank", ">", 0), ("credit_limit_set", "=", True)],
            order="name, id",
        )

    @api.model
    def _generate(self, partners=None, company=None):
        """XLSX bytes of the exposure list of ``partners`` (default: every customer) in ``company``."""
        writer = self.env["credit.xlsx.writer"]
        company = writer._check_export_access("res.partner", company)
        self = self.with_company(company)
        partners = partners.with_env(self.env).commercial_partner_id if partners else self._default_partners()
        partners = partners.sorted(lambda p: ((p.name or "").lower(), p.id))
        exposures = partners._get_credit_exposures()
        profile = {
            row["id"]: row
            for row in partners.read(
                ["ref", "vat", "credit_rating_id", "credit_score", "credit_hold", "user_id"]
            )
        }
        book = writer._new_book(company.currency_id)
        sheet = book.add_sheet(
            _("Exposure"),
            self._columns(),
            title=_(
                "Credit exposure and limits, %(company)s (%(currency)s), %(date)s",
                company=company.name,
                currency=company.currency_id.name,
                date=format_date(self.env, fields.Date.context_today(self)),
            ),
        )
        yes, no = _("Yes"), ""
        for partner in partners:
            exposure, data = exposures[partner.id], profile[partner.id]
            sheet.write_row(
                {
                    "name": partner.display_name,
                    "ref": data["ref"],
                    "vat": data["vat"],
                    "rating": data["credit_rating_id"] and data["credit_rating_id"][1],
                    "score": data["credit_score"] or None,
                    "limit": exposure["limit"],
                    "receivable": exposure["receivable"],
                    "overdue": exposure["overdue"],
                    "overdue_days": exposure["overdue_days"] or None,
                    "draft_invoices": exposure["draft_invoices"],
                    "orders": exposure["uninvoiced_orders"],
                    "total": exposure["total"],
                    "available": exposure["available"],
                    "usage": exposure["usage"] if exposure["limit"] is not None else None,
                    "hold": yes if data["credit_hold"] else no,
                    "salesperson": data["user_id"] and data["user_id"][1],
                }
            )
        sheet.write_total(_("Total"))
        return book.close()

    @api.model
    def action_download(self, partner_ids=None):
        """Download the list of ``partner_ids`` (default: every customer); callable over RPC."""
        content = self._generate(self.env["res.partner"].browse(partner_ids) if partner_ids else None)
        return self.env["credit.xlsx.writer"]._download_action(
            content,
            _("Credit exposure %(date)s.xlsx", date=fields.Date.to_string(fields.Date.context_today(self))),
        )
