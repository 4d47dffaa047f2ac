from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL, drop_view_if_exists, format_amount, format_date

from ..lib.open_items import flush_open_items, open_receivable_where


class CreditInsuranceWatch(models.Model):
    """Watch list of credit insurance: the open invoices of insured customers (a policy of the
    invoice's company on the customer) not yet reported to the insurer, with the policy's
    reporting deadline (due date + reporting days) and the day the item enters the watch list
    (the deadline less the company's lead time). The list shows the overdue items whose watch
    day has come; the daily job opens one task per customer for them."""

    _name = "credit.insurance.watch"
    _description = "Credit Insurance Watch List"
    _auto = False
    _order = "date_deadline, partner_id"

    move_line_id = fields.Many2one("account.move.line", string="Journal Item", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    policy_id = fields.Many2one("credit.insurance.policy", string="Policy", readonly=True)
    insurer_id = fields.Many2one("res.partner", string="Insurer", readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    date_deadline = fields.Date(string="Reporting Deadline", readonly=True)
    date_watch = fields.Date(string="On Watch From", readonly=True)
    amount_residual = fields.Monetary(string="Amount Open", readonly=True)
    days_left = fields.Integer(string="Days to Deadline", compute="_compute_days_left")

    @api.depends("date_deadline")
    def _compute_days_left(self):
        today = fields.Date.context_today(self)
        for row in self:
            row.days_left = (row.date_deadline - today).days if row.date_deadline else 0

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )

    @api.model
    def _query(self):
        """One statement: open debit items (lib/open_items.py) of customers whose policy in the
        item's company is active, without an overdue notification (not cancelled) on the invoice."""
        return SQL(
            """
            SELECT l.id AS id,
                   l.id AS move_line_id,
                   l.move_id,
                   p.commercial_partner_id AS partner_id,
                   l.company_id,
                   pol.id AS policy_id,
                   pol.insurer_id,
                   l.date_maturity,
                   l.date_maturity + pol.reporting_days AS date_deadline,
                   l.date_maturity + pol.reporting_days - c.credit_insurance_watch_days AS date_watch,
                   l.amount_residual
              FROM account_move_line l
              JOIN res_partner p ON p.id = l.partner_id
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
              JOIN res_company c ON c.id = l.company_id
              JOIN credit_insurance_policy pol
                ON pol.id = (cp.credit_insurance_policy_id ->> l.company_id::text)::int
               AND pol.company_id = l.company_id
               AND pol.active
             WHERE %(open_items)s
               AND l.date_maturity IS NOT NULL
               AND NOT EXISTS (
                    SELECT 1
                      FROM credit_insurance_notification_account_move_rel r
                      JOIN credit_insurance_notification n ON n.id = r.notification_id
                     WHERE r.move_id = l.move_id AND n.kind = 'overdue' AND n.state != 'cancel')
            """,
            open_items=open_receivable_where(sign="debit"),
        )

    @api.model
    def _flush_sources(self):
        flush_open_items(self.env)
        self.env["res.partner"].flush_model(["credit_insurance_policy_id"])
        self.env["res.company"].flush_model(["credit_insurance_watch_days"])
        self.env["credit.insurance.policy"].flush_model()
        self.env["credit.insurance.notification"].flush_model()

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, **kwargs):
        self._flush_sources()
        return super()._search(domain, offset=offset, limit=limit, order=order, **kwargs)

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None):
        self._flush_sources()
        return super()._read_group(domain, groupby, aggregates, having, offset, limit, order)

    @api.model
    def _due_domain(self, today=None):
        """The items to act on today: overdue and on the watch list (their watch day has come)."""
        today = today or fields.Date.context_today(self)
        return [("date_maturity", "<", today), ("date_watch", "<=", today)]

    # === ACTIONS === #
    def action_create_notification(self):
        """An overdue notification per customer and policy of the selected items."""
        groups = {}
        for row in self:
            groups.setdefault((row.partner_id, row.policy_id, row.company_id), self.browse())
            groups[(row.partner_id, row.policy_id, row.company_id)] |= row
        notifications = self.env["credit.insurance.notification"]
        for (partner, policy, company), rows in groups.items():
            notifications |= notifications.create(
                {
                    "kind": "overdue",
                    "partner_id": partner.id,
                    "policy_id": policy.id,
                    "company_id": company.id,
                    "move_ids": [fields.Command.set(rows.move_id.ids)],
                }
            )
        action = {
            "type": "ir.actions.act_window",
            "name": _("Insurance Notifications"),
            "res_model": "credit.insurance.notification",
            "view_mode": "list,form",
            "domain": [("id", "in", notifications.ids)],
        }
        if len(notifications) == 1:
            action.update(view_mode="form", res_id=notifications.id)
        return action

    # === CRON === #
    @api.model
    def _cron_insurance_deadlines(self, today=None):
        """Daily: one task per insured customer (and company) whose overdue items have reached
        the watch list, before their reporting deadline; an open task is reused (no duplicates
        on re-run). One query for the items, one batch of tasks."""
        today = fields.Date.to_date(today) or fields.Date.context_today(self)
        self._flush_sources()
        rows = self.env.execute_query(
            SQL(
                """
            SELECT company_id, partner_id, MIN(date_deadline), SUM(amount_residual),
                   ARRAY_AGG(DISTINCT move_id)
              FROM credit_insurance_watch
             WHERE date_maturity < %(today)s AND date_watch <= %(today)s
          GROUP BY company_id, partner_id
          ORDER BY company_id, partner_id
                """,
                today=today,
            )
        )
        Company = self.env["res.company"].sudo()
        Partner = self.env["res.partner"].sudo()
        specs = []
        for company_id, partner_id, deadline, amount, move_ids in rows:
            company = Company.browse(company_id)
            partner = Partner.browse(partner_id)
            specs.append(
                {
                    "task_type": "insurance",
                    "origin": "insurance_deadline",
                    "partner": partner,
                    "company": company,
                    "name": _(
                        "Report overdue items of %(partner)s to the credit insurer by %(deadline)s "
                        "(%(amount)s)",
                        partner=partner.display_name,
                        deadline=format_date(self.env, deadline),
                        amount=format_amount(self.env, amount, company.currency_id),
                    ),
                    "links": {
                        "move_ids": move_ids,
                        "date_deadline": deadline,
                        "priority": "2" if deadline <= today + timedelta(days=2) else "1",
                    },
                }
            )
        return self.env["credit.task"]._create_auto_batch(specs)
