from dateutil.relativedelta import relativedelta
from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.tools import SQL, formatLang

from .res_partner import CREDIT_PROFILE_WRITE, CREDIT_READ_GROUPS

# Scorecard: factor key, label, weight (weights add up to 100)
SCORECARD_FACTORS = (
    ("behaviour", "Payment behaviour (weighted days late)", 30),
    ("overdue", "Overdue share of receivables", 25),
    ("usage", "Exposure against limit", 15),
    ("relationship", "Age of the relationship", 10),
    ("external", "External credit check", 20),
)


def _linear_points(value, best, worst):
    """Points 0-100 falling linearly from ``best`` (100 points) to ``worst`` (0 points)."""
    if best == worst:
        return 100.0
    ratio = (value - best) / (worst - best)
    return max(0.0, min(100.0, 100.0 * (1.0 - ratio)))


class ResPartner(models.Model):
    _inherit = "res.partner"

    # === FIELDS: payment behaviour and scorecard (stored per company, refreshed nightly) === #
    credit_avg_days_to_pay = fields.Float(
        string="Average Days to Pay", company_dependent=True, groups=CREDIT_READ_GROUPS, digits=(16, 1)
    )
    credit_avg_days_late = fields.Float(
        string="Average Days Late (Weighted)",
        company_dependent=True,
        groups=CREDIT_READ_GROUPS,
        digits=(16, 1),
    )
    credit_late_share = fields.Float(
        string="Invoices Paid Late (%)", company_dependent=True, groups=CREDIT_READ_GROUPS, digits=(16, 1)
    )
    credit_max_days_late = fields.Integer(
        string="Maximum Days Late", company_dependent=True, groups=CREDIT_READ_GROUPS
    )
    credit_paid_invoice_count = fields.Integer(
        string="Paid Invoices Analysed", company_dependent=True, groups=CREDIT_READ_GROUPS
    )
    credit_dso = fields.Float(
        string="Customer DSO (Days)", company_dependent=True, groups=CREDIT_READ_GROUPS, digits=(16, 1)
    )
    credit_behaviour_date = fields.Date(
        string="Behaviour Updated On", company_dependent=True, groups=CREDIT_READ_GROUPS
    )
    credit_scorecard_html = fields.Html(
        string="Scorecard",
        compute="_compute_credit_scorecard_html",
        sanitize=False,
        groups=CREDIT_READ_GROUPS,
    )

    # === COMPUTE === #
    @api.depends_context("company")
    def _compute_credit_scorecard_html(self):
        for partner in self:
            card = partner.commercial_partner_id._get_credit_scorecard()
            rows = Markup("").join(
                Markup(
                    "<tr><td>%s</td><td class='text-end'>%s</td><td class='text-end'>%s</td>"
                    "<td class='text-end'>%s</td></tr>"
                )
                % (
                    escape(f["label"]),
                    escape(f["value"]),
                    f["weight"],
                    formatLang(self.env, f["contribution"], digits=1),
                )
                for f in card["factors"]
            )
            partner.credit_scorecard_html = Markup(
                "<table class='table table-sm o_credit_scorecard'><thead><tr><th>%s</th>"
                "<th class='text-end'>%s</th><th class='text-end'>%s</th><th class='text-end'>%s</th>"
                "</tr></thead><tbody>%s</tbody><tfoot><tr><th>%s</th><th/><th/>"
                "<th class='text-end'>%s</th></tr></tfoot></table>"
            ) % (
                _("Factor"),
                _("Value"),
                _("Weight"),
                _("Points"),
                rows,
                _("Score"),
                card["score"],
            )

    # === ACTIONS === #
    def action_refresh_credit_profile(self):
        """Button: refresh payment behaviour and the scorecard rating now."""
        self.commercial_partner_id._refresh_payment_behaviour()
        self.commercial_partner_id._refresh_credit_rating()
        return True

    # === BUSINESS METHODS: payment behaviour === #
    def _refresh_payment_behaviour(self):
        """Recompute and store the payment behaviour of these customers in the current company
        from the paid invoices of the configured window (one aggregate query for all)."""
        company = self.env.company
        today = fields.Date.context_today(self)
        months = company.credit_behaviour_months or 12
        window_start = today - relativedelta(months=months)
        commercial = self.commercial_partner_id
        if not commercial:
            return
        self.env["account.move"].flush_model()
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        rows = self.env.execute_query_dict(
            SQL(
                """
            WITH paid AS (
                SELECT m.commercial_partner_id AS partner_id,
                       m.invoice_date,
                       COALESCE(m.invoice_date_due, m.invoice_date) AS date_due,
                       ABS(m.amount_total_signed) AS amount,
                       pay.paid_date
                  FROM account_move m
                  JOIN LATERAL (
                        SELECT MAX(pr.max_date) AS paid_date
                          FROM account_move_line il
                          JOIN account_partial_reconcile pr ON pr.debit_move_id = il.id
                         WHERE il.move_id = m.id AND il.display_type = 'payment_term'
                  ) pay ON TRUE
                 WHERE m.commercial_partner_id IN %(partner_ids)s
                   AND m.company_id = %(company_id)s
                   AND m.move_type = 'out_invoice'
                   AND m.state = 'posted'
                   AND m.payment_state IN ('paid', 'in_payment')
                   AND pay.paid_date >= %(window_start)s
            ),
            sales AS (
                SELECT m.commercial_partner_id AS partner_id, SUM(m.amount_total_signed) AS amount
                  FROM account_move m
                 WHERE m.commercial_partner_id IN %(partner_ids)s
                   AND m.company_id = %(company_id)s
                   AND m.move_type IN ('out_invoice', 'out_refund')
                   AND m.state = 'posted'
                   AND m.invoice_date > %(window_start)s
              GROUP BY m.commercial_partner_id
            ),
            open_items AS (
                SELECT p.commercial_partner_id AS partner_id, SUM(l.amount_residual) AS amount
                  FROM account_move_line l
                  JOIN account_account a ON a.id = l.account_id
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE p.commercial_partner_id IN %(partner_ids)s
                   AND l.company_id = %(company_id)s
                   AND l.parent_state = 'posted'
                   AND a.account_type = 'asset_receivable'
                   AND NOT l.reconciled
                   AND (l.amount_residual <> 0 OR l.amount_residual_currency <> 0)
              GROUP BY p.commercial_partner_id
            ),
            behaviour AS (
                SELECT partner_id,
                       COUNT(*) AS invoice_count,
                       AVG(paid_date - invoice_date) AS avg_days_to_pay,
                       SUM(GREATEST(paid_date - date_due, 0) * amount)
                           / NULLIF(SUM(amount), 0) AS avg_days_late,
                       100.0 * COUNT(*) FILTER (WHERE paid_date > date_due) / COUNT(*) AS late_share,
                       MAX(GREATEST(paid_date - date_due, 0)) AS max_days_late
                  FROM paid
              GROUP BY partner_id
            )
            SELECT p.id AS partner_id,
                   COALESCE(b.invoice_count, 0) AS invoice_count,
                   COALESCE(b.avg_days_to_pay, 0) AS avg_days_to_pay,
                   COALESCE(b.avg_days_late, 0) AS avg_days_late,
                   COALESCE(b.late_share, 0) AS late_share,
                   COALESCE(b.max_days_late, 0) AS max_days_late,
                   CASE WHEN COALESCE(s.amount, 0) > 0
                        THEN GREATEST(COALESCE(o.amount, 0), 0) / s.amount * %(window_days)s
                        ELSE 0 END AS dso
              FROM res_partner p
         LEFT JOIN behaviour b ON b.partner_id = p.id
         LEFT JOIN sales s ON s.partner_id = p.id
         LEFT JOIN open_items o ON o.partner_id = p.id
             WHERE p.id IN %(partner_ids)s
            """,
                partner_ids=tuple(commercial.ids),
                company_id=company.id,
                window_start=window_start,
                window_days=(today - window_start).days,
            )
        )
        by_id = {row["partner_id"]: row for row in rows}
        writer = commercial.with_context(tracking_disable=True, credit_profile_write=CREDIT_PROFILE_WRITE)
        for partner in writer:
            row = by_id[partner.id]
            partner.write(
                {
                    "credit_paid_invoice_count": row["invoice_count"],
                    "credit_avg_days_to_pay": float(row["avg_days_to_pay"]),
                    "credit_avg_days_late": float(row["avg_days_late"]),
                    "credit_late_share": float(row["late_share"]),
                    "credit_max_days_late": int(row["max_days_late"]),
                    "credit_dso": float(row["dso"]),
                    "credit_behaviour_date": today,
                }
            )

    @api.model
    def _credit_customer_domain(self):
        return [("parent_id", "=", False), ("customer_rank", ">", 0)]

    @api.model
    def _cron_refresh_payment_behaviour(self, batch_size=1000):
        """Nightly: refresh the payment behaviour of every customer, company by company, in
        batches; the scheduler re-runs the job at once while work remains."""
        today = fields.Date.context_today(self)
        done = remaining = 0
        # sudo: the scheduler's user refreshes every company's customers
        for company in self.env["res.company"].sudo().search([]):
            partners = self.sudo().with_company(company)
            domain = partners._credit_customer_domain() + [
                "|",
                ("credit_behaviour_date", "=", False),
                ("credit_behaviour_date", "<", today),
            ]
            if not done:
                batch = partners.search(domain, limit=batch_size)
                batch._refresh_payment_behaviour()
                batch._refresh_credit_rating()
                done = len(batch)
            remaining += partners.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    # === BUSINESS METHODS: scorecard and rating === #
    def _get_credit_scorecard(self):
        """The internal score (0-100, 100 = lowest risk) with each factor's contribution."""
        self.ensure_one()
        return self._get_credit_scorecards()[self.commercial_partner_id.id]

    def _get_credit_scorecards(self):
        """Scorecards per commercial partner id, set-based: one exposure computation, one
        aggregate for the first invoice dates and one search of the valid credit checks."""
        partners = self.commercial_partner_id
        today = fields.Date.context_today(self)
        exposures = partners._get_credit_exposures()
        # sudo: the scorecard is shown to salespeople, who may not read invoices
        first_dates = {
            partner.id: first_date
            for partner, first_date in self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", partners.ids),
                    ("company_id", "=", self.env.company.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                ],
                ["commercial_partner_id"],
                ["invoice_date:min"],
            )
        }
        check_scores = partners._credit_external_scores()
        labels = {
            "behaviour": _("Payment behaviour (weighted days late)"),
            "overdue": _("Overdue share of receivables"),
            "usage": _("Exposure against limit"),
            "relationship": _("Age of the relationship"),
            "external": _("External credit check"),
        }
        cards = {}
        for partner in partners:
            exposure = exposures[partner.id]
            check_score = check_scores.get(partner.id)
            months = 0
            if first_dates.get(partner.id):
                delta = relativedelta(today, first_dates[partner.id])
                months = delta.years * 12 + delta.months
            overdue_share = (
                100.0 * exposure["overdue"] / exposure["receivable"] if exposure["receivable"] > 0 else 0.0
            )
            usage = exposure["usage"]
            days_late = partner.credit_avg_days_late
            values = {
                "behaviour": (
                    _linear_points(days_late, 0, 60),
                    _("%(days)s days", days=formatLang(self.env, days_late, digits=1)),
                ),
                "overdue": (
                    _linear_points(overdue_share, 0, 50),
                    "%s %%" % formatLang(self.env, overdue_share, digits=0),
                ),
                "usage": (
                    50.0 if usage is None else _linear_points(usage, 50, 120),
                    _("no limit") if usage is None else "%s %%" % formatLang(self.env, usage, digits=0),
                ),
                "relationship": (_linear_points(months, 36, 0), _("%(months)s months", months=months)),
                "external": (
                    50.0 if check_score is None else float(check_score),
                    _("none") if check_score is None else str(check_score),
                ),
            }
            factors = [
                {
                    "key": key,
                    "label": labels[key],
                    "value": values[key][1],
                    "points": values[key][0],
                    "weight": weight,
                    "contribution": values[key][0] * weight / 100.0,
                }
                for key, _label, weight in SCORECARD_FACTORS
            ]
            cards[partner.id] = {
                "score": int(round(sum(f["contribution"] for f in factors))),
                "factors": factors,
            }
        return cards

    def _credit_external_score(self):
        """Normalised score (0-100) of the latest done, unexpired credit check, if any."""
        return self._credit_external_scores().get(self.commercial_partner_id.id)

    def _credit_external_scores(self):
        """Normalised score of the latest done, unexpired credit check per commercial partner id
        (one search for all), in the current company."""
        if "credit.check" not in self.env:
            return {}
        today = fields.Date.context_today(self)
        checks = (
            self.env["credit.check"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "done"),
                    "|",
                    ("date_end", "=", False),
                    ("date_end", ">=", today),
                ]
            )
        )
        scores = {}
        for check in checks:  # ordered newest first
            scores.setdefault(check.partner_id.id, check.score_normalized)
        return scores

    def _refresh_credit_rating(self):
        """Set score and rating from the scorecard, except where a manager set the rating by
        hand or a valid credit check decided it."""
        today = fields.Date.context_today(self)
        ratings = self.env["credit.rating"]
        partners = self.commercial_partner_id
        check_scores = partners._credit_external_scores()
        to_rate = partners.filtered(
            lambda p: p.credit_rating_source != "manual"
            and not (p.credit_rating_source == "check" and p.id in check_scores)
        )
        cards = to_rate._get_credit_scorecards()
        writer = to_rate.with_context(credit_profile_write=CREDIT_PROFILE_WRITE)
        rating_for = {}  # score -> rating: one search per distinct score at most
        for partner in writer:
            score = cards[partner.id]["score"]
            if score not in rating_for:
                rating_for[score] = ratings._for_score(score)
            rating = rating_for[score]
            vals = {"credit_score": score, "credit_rating_source": "scorecard", "credit_rating_date": today}
            if rating and rating != partner.credit_rating_id:
                vals["credit_rating_id"] = rating.id
            partner.write(vals)
