from odoo import api, fields, models
from odoo.tools import SQL

OWNERS = [("sales", "Salesperson"), ("credit", "Credit Team"), ("agency", "Collection Agency / Legal")]


class CreditPartnerEscalation(models.Model):
    """The escalation level and case owner per customer and company, as an SQL view: readable
    and groupable from other reports (join ``credit_partner_escalation`` on partner_id and
    company_id; a customer without a row is at no level and owned by the salesperson).

    Level: the manual level set by a Credit Manager if any, else the highest dunning level of
    the customer's open invoices. Owner: agency while invoices are handed over to a collection
    agency or from the company's agency level on, the credit team from its credit team level
    on, else the salesperson."""

    _name = "credit.partner.escalation"
    _inherit = ["credit.report.pieces"]
    _description = "Customer Escalation"
    _auto = False
    _order = "level_sequence desc, partner_id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    level_id = fields.Many2one("credit.dunning.level", string="Escalation Level", readonly=True)
    level_sequence = fields.Integer(readonly=True)
    dunning_level_id = fields.Many2one("credit.dunning.level", string="Dunning Level", readonly=True)
    manual_level_id = fields.Many2one("credit.dunning.level", string="Manual Level", readonly=True)
    source = fields.Selection(
        [("dunning", "Dunning"), ("manual", "Set by Hand"), ("agency", "Agency Handover")], readonly=True
    )
    owner = fields.Selection(OWNERS, string="Case Owner", readonly=True)
    handed_over = fields.Boolean(string="Handed Over to Agency", readonly=True)

    @property
    def _table_query(self):
        return self._query()

    # SQL from named pieces (as the worklist): _with(), _select(), _from(), _where()
    @api.model
    def _with(self):
        """(name, SQL) of the customers' dunning level, manual level and agency handovers per
        company, and the (customer, company) pairs that have any of them."""
        return [
            (
                "dunned",
                SQL(
                    """
            SELECT DISTINCT ON (m.commercial_partner_id, m.company_id)
                   m.commercial_partner_id AS partner_id, m.company_id, l.id AS level_id
              FROM account_move m
              JOIN credit_dunning_level l ON l.id = m.credit_dunning_level_id
             WHERE m.state = 'posted'
               AND m.move_type = 'out_invoice'
               AND m.payment_state IN ('not_paid', 'partial')
               AND m.credit_dunning_level_id IS NOT NULL
             ORDER BY m.commercial_partner_id, m.company_id, l.sequence DESC, l.days DESC, l.id DESC
                    """
                ),
            ),
            (
                "manual",
                SQL(
                    """
            SELECT p.id AS partner_id, kv.key::int AS company_id, kv.value::int AS level_id
              FROM res_partner p
             CROSS JOIN LATERAL jsonb_each_text(p.credit_escalation_manual_level_id) kv
             WHERE p.credit_escalation_manual_level_id IS NOT NULL
               AND kv.value IS NOT NULL
                    """
                ),
            ),
            (
                "handed",
                SQL(
                    "SELECT DISTINCT partner_id, company_id FROM credit_agency_handover"
                    " WHERE state = 'handed_over'"
                ),
            ),
            (
                "keys",
                SQL(
                    """
            SELECT partner_id, company_id FROM dunned
             UNION SELECT partner_id, company_id FROM manual
             UNION SELECT partner_id, company_id FROM handed
                    """
                ),
            ),
        ]

    @api.model
    def _select(self):
        return SQL(
            """row_number() OVER (ORDER BY k.partner_id, k.company_id) AS id,
               k.partner_id,
               k.company_id,
               p.user_id,
               COALESCE(ma.level_id, d.level_id) AS level_id,
               lv.sequence AS level_sequence,
               d.level_id AS dunning_level_id,
               ma.level_id AS manual_level_id,
               CASE WHEN ma.level_id IS NOT NULL THEN 'manual'
                    WHEN d.level_id IS NOT NULL THEN 'dunning'
                    ELSE 'agency' END AS source,
               CASE WHEN h.partner_id IS NOT NULL
                      OR (ag.id IS NOT NULL AND lv.id IS NOT NULL
                          AND (lv.sequence, lv.days, lv.id) >= (ag.sequence, ag.days, ag.id))
                    THEN 'agency'
                    WHEN cr.id IS NOT NULL AND lv.id IS NOT NULL
                          AND (lv.sequence, lv.days, lv.id) >= (cr.sequence, cr.days, cr.id)
                    THEN 'credit'
                    ELSE 'sales' END AS owner,
               h.partner_id IS NOT NULL AS handed_over"""
        )

    @api.model
    def _from(self):
        return SQL(
            """keys k
              JOIN res_partner p ON p.id = k.partner_id
              JOIN res_company c ON c.id = k.company_id
              LEFT JOIN dunned d ON d.partner_id = k.partner_id AND d.company_id = k.company_id
              LEFT JOIN manual ma ON ma.partner_id = k.partner_id AND ma.company_id = k.company_id
              LEFT JOIN handed h ON h.partner_id = k.partner_id AND h.company_id = k.company_id
              LEFT JOIN credit_dunning_level lv ON lv.id = COALESCE(ma.level_id, d.level_id)
              LEFT JOIN credit_dunning_level cr ON cr.id = c.credit_escalation_credit_level_id
              LEFT JOIN credit_dunning_level ag ON ag.id = c.credit_escalation_agency_level_id"""
        )

    @api.model
    def _where(self):
        return SQL("TRUE")

    @api.model
    def _escalation_by_partner(self, partner_ids, company):
        """{commercial partner id: {"level_id", "owner", "source"}} for ``partner_ids`` in
        ``company``: one query, whatever the number of partners."""
        if not partner_ids:
            return {}
        self._flush_escalation_sources()
        self.env.cr.execute(
            SQL(
                "SELECT partner_id, level_id, owner, source FROM (%s) e "
                "WHERE e.partner_id = ANY(%s) AND e.company_id = %s",
                self._table_query,
                list(partner_ids),
                company.id,
            )
        )
        return {
            partner_id: {"level_id": level_id, "owner": owner, "source": source}
            for partner_id, level_id, owner, source in self.env.cr.fetchall()
        }

    @api.model
    def _flush_escalation_sources(self):
        self.env["account.move"].flush_model(
            [
                "credit_dunning_level_id",
                "commercial_partner_id",
                "company_id",
                "state",
                "move_type",
                "payment_state",
            ]
        )
        self.env["res.partner"].flush_model(["credit_escalation_manual_level_id", "user_id"])
        self.env["credit.agency.handover"].flush_model(["state", "partner_id", "company_id"])
        self.env["res.company"].flush_model(
            ["credit_escalation_credit_level_id", "credit_escalation_agency_level_id"]
        )
        self.env["credit.dunning.level"].flush_model(["sequence", "days"])

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, **kwargs):
        self._flush_escalation_sources()
        return super()._search(domain, offset=offset, limit=limit, order=order, **kwargs)
