"""OCA migration: credit limits, partial limits noted on the customer and risk exceptions as
holds (see credit_oca_migration)."""

from markupsafe import Markup

from odoo import _, models
from odoo.tools import SQL, format_amount

from ..lib.open_items import open_receivable_where
from ..models.res_partner import CREDIT_PROFILE_WRITE
from .credit_oca_migration import OCA_PARTIAL_LIMITS


class CreditOcaMigration(models.TransientModel):
    _inherit = "credit.oca.migration"

    # === BUSINESS METHODS === #
    def _migrate_limits(self, company, result):
        """OCA financial risk treats a credit limit above 0 as in force: put it in force here. The
        partial limits of OCA (draft, open, unpaid invoices, sales orders ...) have no counterpart
        here; they are noted on the customer so nothing is lost."""
        if not self._oca_column_exists("res_partner", "risk_invoice_open_limit"):
            return
        Partner = self.env["res.partner"].with_company(company)
        done = self._migration_records("res.partner", f"limit_{company.id}_")
        with_limit = Partner.search([("parent_id", "=", False), ("credit_limit", ">", 0)])
        to_set = with_limit.filtered(lambda p: p.id not in done)
        writer = to_set.with_context(credit_profile_write=CREDIT_PROFILE_WRITE)
        for partner in writer.filtered(lambda p: not p.credit_limit_set):
            partner.write({"credit_limit_set": True, "credit_limit": partner.credit_limit})
        for partner in to_set:
            self._mark(partner, f"limit_{company.id}_{partner.id}")
        result["limits"] += len(to_set)
        partial_columns = [col for col in OCA_PARTIAL_LIMITS if self._oca_column_exists("res_partner", col)]
        if not partial_columns:
            return
        noted = self._migration_records("res.partner", f"limitnote_{company.id}_")
        rows = self.env.execute_query_dict(
            SQL(
                "SELECT id, %(columns)s FROM res_partner WHERE parent_id IS NULL AND (%(any_set)s)",
                columns=SQL(", ").join(SQL.identifier(col) for col in partial_columns),
                any_set=SQL(" OR ").join(SQL("%s > 0", SQL.identifier(col)) for col in partial_columns),
            )
        )
        labels = {
            "risk_invoice_draft_limit": _("Draft invoices"),
            "risk_invoice_open_limit": _("Open invoices"),
            "risk_invoice_unpaid_limit": _("Unpaid invoices"),
            "risk_account_amount_limit": _("Other account moves"),
            "risk_account_amount_unpaid_limit": _("Unpaid other account moves"),
            "risk_sale_order_limit": _("Sales orders not invoiced"),
        }
        for row in rows:
            if row["id"] in noted:
                continue
            partner = Partner.browse(row["id"])
            items = Markup().join(
                Markup("<li>%s: %s</li>")
                % (labels[col], format_amount(self.env, row[col], company.currency_id))
                for col in partial_columns
                if row[col]
            )
            partner.sudo()._message_log(
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (
                    _(
                        "Partial risk limits of OCA Financial Risk in %(company)s (this module checks "
                        "one credit limit on the whole exposure):",
                        company=company.name,
                    ),
                    items,
                )
            )
            self._mark(partner, f"limitnote_{company.id}_{partner.id}")
            result["limits_noted"] += 1

    def _migrate_holds(self, company, result):
        """Customers OCA holds in a risk exception are put on credit hold, with the reason."""
        Partner = self.env["res.partner"].with_company(company)
        if "risk_exception" in Partner._fields:
            # the OCA module is installed: its own computation decides
            partners = Partner.search([("parent_id", "=", False), ("risk_exception", "=", True)])
            exceeded = {partner.id: partner.risk_amount_exceeded for partner in partners}
        elif self._oca_column_exists("res_partner", "risk_invoice_open_limit"):
            exceeded = self._oca_risk_exceeded(company)
        else:
            return
        done = self._migration_records("res.partner", f"hold_{company.id}_")
        todo = Partner.browse([pid for pid in exceeded if pid not in done])
        writer = todo.with_context(credit_profile_write=CREDIT_PROFILE_WRITE)
        for partner in writer:
            if not partner.credit_hold:
                partner.write(
                    {
                        "credit_hold": True,
                        "credit_hold_reason": _(
                            "Risk exception taken over from OCA Financial Risk: %(amount)s over the limit",
                            amount=format_amount(self.env, exceeded[partner.id], company.currency_id),
                        ),
                    }
                )
                result["holds"] += 1
            self._mark(partner, f"hold_{company.id}_{partner.id}")

    def _oca_risk_exceeded(self, company):
        """Without the OCA module (only its columns left): {partner id: amount over the limit} of
        the customers whose open receivables exceed their credit limit, or whose open or unpaid
        invoices exceed the partial limit on them."""
        self.env["account.move.line"].flush_model()
        has_unpaid = self._oca_column_exists("res_partner", "risk_invoice_unpaid_limit")
        rows = self.env.execute_query(
            SQL(
                """
                WITH items AS (
                    SELECT p.commercial_partner_id AS partner_id,
                           SUM(l.amount_residual) AS open_amount,
                           SUM(l.amount_residual) FILTER (WHERE l.date_maturity < CURRENT_DATE) AS unpaid
                      FROM account_move_line l
                      JOIN account_account a ON a.id = l.account_id
                      JOIN res_partner p ON p.id = l.partner_id
                     WHERE %(open_items)s
                  GROUP BY p.commercial_partner_id
                )
                SELECT p.id,
                       GREATEST(
                           COALESCE(i.open_amount, 0) - NULLIF((p.credit_limit ->> %(key)s)::numeric, 0),
                           COALESCE(i.open_amount, 0) - NULLIF(p.risk_invoice_open_limit, 0),
                           %(unpaid)s,
                           0)
                  FROM res_partner p
                  JOIN items i ON i.partner_id = p.id
                 WHERE p.parent_id IS NULL
                """,
                open_items=open_receivable_where(company_id=company.id, account="a"),
                key=str(company.id),
                unpaid=SQL("COALESCE(i.unpaid, 0) - NULLIF(p.risk_invoice_unpaid_limit, 0)")
                if has_unpaid
                else SQL("0"),
            )
        )
        return {partner_id: float(amount) for partner_id, amount in rows if amount and amount > 0}
