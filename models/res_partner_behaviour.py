import calendar
import json

from dateutil.relativedelta import relativedelta
from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, formatLang, json_default
from odoo.tools.sql import create_index

from ..lib.open_items import open_receivable_where
from .cron_retry import retry_on_conflict
from .res_partner import CREDIT_READ_GROUPS

# Scorecard factors in the order shown; their weights and thresholds are company settings
# (res.company ``credit_score_*``, Settings > Credit Control > Customer Scorecard).
SCORECARD_FACTORS = ("behaviour", "overdue", "usage", "relationship", "external")

# Points of a factor without data (no credit limit, no valid credit check): neither good nor
# bad, so that a missing figure neither lifts nor sinks the score.
NEUTRAL_POINTS = 50.0


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

    def init(self):
        result = super().init()
        # Posted customer invoices and credit notes per customer and date: what the payment
        # behaviour (sales of the window, paid invoices) and the scorecard (first invoice date)
        # read per customer. Without it, refreshing one customer (its form's button, a rating
        # after a payment) scans every move of the ledger: 0.3 s instead of 25 ms on the
        # benchmark ledger.
        create_index(
            self.env.cr,
            "credit_control_account_move_customer_invoice_idx",
            "account_move",
            ["commercial_partner_id", "invoice_date"],
            where="state = 'posted' AND move_type IN ('out_invoice', 'out_refund')",
        )
        return result

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
        """Button: refresh payment behaviour and the scorecard rating now (the credit team's:
        it writes the rating and the score, protected values)."""
        if not self._is_credit_team():
            raise AccessError(
                _("Only the credit team refreshes the payment behaviour and rating of a customer.")
            )
        self.commercial_partner_id._refresh_payment_behaviour()
        self.commercial_partner_id._refresh_credit_rating()
        return True

    # === BUSINESS METHODS: payment behaviour === #
    def _refresh_payment_behaviour(self):
        """Recompute and store the payment behaviour of these customers in the current company
        from the paid invoices of the configured window. Set-based whatever the number of
        customers: one aggregate query and one UPDATE (see :meth:`_credit_store_company_values`)."""
        commercial = self.commercial_partner_id
        if not commercial:
            return
        today = fields.Date.context_today(self)
        rows = commercial._credit_behaviour_rows(today)
        commercial._credit_store_company_values(
            {
                row["partner_id"]: {
                    "credit_paid_invoice_count": row["invoice_count"],
                    "credit_avg_days_to_pay": float(row["avg_days_to_pay"]),
                    "credit_avg_days_late": float(row["avg_days_late"]),
                    "credit_late_share": float(row["late_share"]),
                    "credit_max_days_late": int(row["max_days_late"]),
                    "credit_dso": float(row["dso"]),
                    "credit_behaviour_date": today,
                }
                for row in rows
            }
        )

    def _credit_behaviour_rows(self, today):
        """The payment behaviour of the commercial partners ``self`` in the current company, one
        row per partner (one aggregate query): paid invoice count, average days to pay, average
        days late weighted by amount, late share, maximum days late and DSO over the window of
        ``credit_behaviour_months`` before ``today``. Long for its single SQL statement, whose
        named CTEs are the steps: paid invoices with their payment date, sales and open items of
        the window, the behaviour aggregate, one row per partner."""
        company = self.env.company
        window_start = today - relativedelta(months=company.credit_behaviour_months)
        self.env["account.move"].flush_model()
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        return self.env.execute_query_dict(
            SQL(
                """
            WITH paid AS (
                -- paid invoices and their payment date (the last reconciliation) in the window:
                -- an invoice whose last reconciliation falls in the window has it among those
                -- of the window, so only they are joined. Inner joins only: the planner starts
                -- from the window's reconciliations for all customers (index lookups of their
                -- items, no scan of every journal item) or from the invoices for a few
                SELECT m.commercial_partner_id AS partner_id,
                       m.invoice_date,
                       COALESCE(m.invoice_date_due, m.invoice_date) AS date_due,
                       ABS(m.amount_total_signed) AS amount,
                       MAX(pr.max_date) AS paid_date
                  FROM account_partial_reconcile pr
                  JOIN account_move_line il ON il.id = pr.debit_move_id AND il.display_type = 'payment_term'
                  JOIN account_move m ON m.id = il.move_id
                 WHERE pr.max_date >= %(window_start)s
                   AND m.commercial_partner_id IN %(partner_ids)s
                   AND m.company_id = %(company_id)s
                   AND m.move_type = 'out_invoice'
                   AND m.state = 'posted'
                   AND m.payment_state IN ('paid', 'in_payment')
              GROUP BY m.id
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
                 WHERE %(open_items)s
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
                partner_ids=tuple(self.ids),
                company_id=company.id,
                window_start=window_start,
                window_days=(today - window_start).days,
                open_items=open_receivable_where(partner_ids=self.ids, company_id=company.id, account="a"),
            )
        )

    def _credit_store_company_values(self, values_by_id):
        """Store per-company values of the current company for many partners in one UPDATE,
        leaving the rows ``write`` would leave: ``values_by_id`` is {partner id: {field: value}},
        every dict with the same company-dependent fields. As in Odoo's own write, a value equal
        to the field's fallback removes the company's key (an empty column becomes NULL), and
        write_uid / write_date are set. ``write`` is bypassed — no access check and no tracking:
        for the figures the refreshes compute, whose callers decide what may be written (the
        rating refresh logs the tracked changes itself). The cache of the fields is invalidated
        and dependent fields are marked modified."""
        if not values_by_id:
            return
        fnames = sorted(next(iter(values_by_id.values())))
        fields_ = [self._fields[fname] for fname in fnames]
        assert all(field.company_dependent for field in fields_)
        partners = self.browse(values_by_id)
        partners.flush_recordset(fnames)
        defaults = self.env["ir.default"].sudo()._get_model_defaults(self._name)
        company_key = str(self.env.company.id)
        assignments = [
            SQL(
                """%(column)s = CASE WHEN v.vals -> %(fname)s = %(fallback)s::jsonb
                     THEN NULLIF(COALESCE(p.%(column)s, '{}'::jsonb) - %(key)s, '{}'::jsonb)
                     ELSE COALESCE(p.%(column)s, '{}'::jsonb)
                          || jsonb_build_object(%(key)s, v.vals -> %(fname)s)
                END""",
                column=SQL.identifier(field.name),
                fname=field.name,
                fallback=json.dumps(
                    field.convert_to_column(defaults.get(field.name), self), default=json_default
                ),
                key=company_key,
            )
            for field in fields_
        ]
        rows = {
            str(partner_id): {
                field.name: field.convert_to_column(values[field.name], self) for field in fields_
            }
            for partner_id, values in values_by_id.items()
        }
        self.env.execute_query(
            SQL(
                """
            UPDATE res_partner p
               SET %(assignments)s, write_uid = %(uid)s, write_date = %(now)s
              FROM jsonb_each(%(rows)s::jsonb) AS v(id, vals)
             WHERE p.id = v.id::int
                """,
                assignments=SQL(", ").join(assignments),
                uid=self.env.uid,
                now=self.env.cr.now(),
                rows=json.dumps(rows, default=json_default),
            )
        )
        partners.invalidate_recordset([*fnames, "write_uid", "write_date"])
        partners.modified(fnames)

    @api.model
    def _credit_customer_domain(self):
        return [("parent_id", "=", False), ("customer_rank", ">", 0)]

    @api.model
    @retry_on_conflict
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

    def _get_credit_scorecards(self, check_scores=None, display=True):
        """Scorecards per commercial partner id, set-based: one exposure computation, one
        aggregate for the first invoice dates and one search of the valid credit checks (unless
        ``check_scores`` of :meth:`_credit_external_scores` is given). The weights and thresholds
        are the current company's settings. ``display=False`` (the rating refresh, which needs
        the points only): the factors' values are not formatted for display (``None``)."""
        partners = self.commercial_partner_id
        company = self.env.company
        exposures = partners._get_credit_exposures()
        first_dates = partners._credit_first_invoice_dates()
        if check_scores is None:
            check_scores = partners._credit_external_scores()
        today = fields.Date.context_today(self)
        weights = company._credit_scorecard_weights()
        total_weight = sum(weights.values())
        labels = {
            "behaviour": _("Payment behaviour (weighted days late)"),
            "overdue": _("Overdue share of receivables"),
            "usage": _("Exposure against limit"),
            "relationship": _("Age of the relationship"),
            "external": _("External credit check"),
        }
        cards = {}
        for partner in partners:
            values = partner._credit_scorecard_points(
                company,
                today,
                exposures[partner.id],
                first_dates.get(partner.id),
                check_scores.get(partner.id),
                display=display,
            )
            factors = [
                {
                    "key": key,
                    "label": labels[key],
                    "value": values[key][1],
                    "points": values[key][0],
                    "weight": weights[key],
                    "contribution": values[key][0] * weights[key] / total_weight,
                }
                for key in SCORECARD_FACTORS
            ]
            cards[partner.id] = {
                "score": int(round(sum(f["contribution"] for f in factors))),
                "factors": factors,
            }
        return cards

    def _credit_first_invoice_dates(self):
        """Date of the first posted customer invoice per commercial partner id of ``self`` in
        the current company. One query, the first date of each partner read from the module's
        index on posted customer invoices by partner and date (an index probe per partner
        instead of aggregating every invoice of the ledger). Read in SQL: the scorecard is shown
        to salespeople, who may not read invoices."""
        partner_ids = [pid for pid in self.commercial_partner_id.ids if isinstance(pid, int)]  # saved ones
        if not partner_ids:
            return {}
        self.env["account.move"].flush_model(
            ["commercial_partner_id", "company_id", "move_type", "state", "invoice_date"]
        )
        rows = self.env.execute_query(
            SQL(
                """
            SELECT p.id,
                   (SELECT m.invoice_date
                      FROM account_move m
                     WHERE m.commercial_partner_id = p.id
                       AND m.company_id = %(company_id)s
                       AND m.move_type = 'out_invoice'
                       AND m.state = 'posted'
                       AND m.invoice_date IS NOT NULL
                  ORDER BY m.invoice_date
                     LIMIT 1)
              FROM unnest(%(partner_ids)s::int[]) AS p(id)
                """,
                company_id=self.env.company.id,
                partner_ids=partner_ids,
            )
        )
        return {partner_id: first_date for partner_id, first_date in rows if first_date}

    @api.model
    def _credit_months_between(self, first_date, today):
        """Whole months from ``first_date`` to ``today``, as ``relativedelta(today, first_date)``
        counts them (years * 12 + months; a month ending before the day of ``first_date`` counts
        when ``today`` is its last day), without building a relativedelta per customer."""
        if first_date > today:
            delta = relativedelta(today, first_date)
            return delta.years * 12 + delta.months
        months = (today.year - first_date.year) * 12 + today.month - first_date.month
        if months and today.day < min(first_date.day, calendar.monthrange(today.year, today.month)[1]):
            months -= 1
        return months

    def _credit_scorecard_points(self, company, today, exposure, first_date, check_score, display=True):
        """{factor key: (points 0-100, value as shown)} of this commercial partner, from its
        exposure, first invoice date, external check score and stored payment behaviour, with
        the thresholds of ``company``, as of ``today``. ``display=False``: the points only, the
        values ``None`` (formatting a number in the user's language costs more than scoring)."""
        self.ensure_one()
        months = self._credit_months_between(first_date, today) if first_date else 0
        overdue_share = (
            100.0 * exposure["overdue"] / exposure["receivable"] if exposure["receivable"] > 0 else 0.0
        )
        usage = exposure["usage"]
        days_late = self.credit_avg_days_late
        points = {
            "behaviour": _linear_points(days_late, 0, company.credit_score_days_late_worst),
            "overdue": _linear_points(overdue_share, 0, company.credit_score_overdue_share_worst),
            "usage": NEUTRAL_POINTS
            if usage is None
            else _linear_points(usage, company.credit_score_usage_best, company.credit_score_usage_worst),
            "relationship": _linear_points(months, company.credit_score_relationship_months, 0),
            "external": NEUTRAL_POINTS if check_score is None else float(check_score),
        }
        if not display:
            return {key: (value, None) for key, value in points.items()}
        shown = {
            "behaviour": _("%(days)s days", days=formatLang(self.env, days_late, digits=1)),
            "overdue": "%s %%" % formatLang(self.env, overdue_share, digits=0),
            "usage": _("no limit") if usage is None else "%s %%" % formatLang(self.env, usage, digits=0),
            "relationship": _("%(months)s months", months=months),
            "external": _("none") if check_score is None else str(check_score),
        }
        return {key: (points[key], shown[key]) for key in points}

    def _credit_external_scores(self):
        """Normalised score of the latest done, unexpired credit check per commercial partner id
        (one search for all), in the current company."""
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
        hand or a valid credit check decided it. Set-based whatever the number of customers:
        the scorecards, one search of the rating scale, one UPDATE, the tracked changes logged
        in one batch of chatter messages, then the rating-change notices."""
        partners = self.commercial_partner_id
        check_scores = partners._credit_external_scores()
        to_rate = partners.filtered(
            lambda p: p.credit_rating_source != "manual"
            and not (p.credit_rating_source == "check" and p.id in check_scores)
        )
        if not to_rate:
            return
        cards = to_rate._get_credit_scorecards(check_scores=check_scores, display=False)
        rating_for = self.env["credit.rating"]._for_scores({card["score"] for card in cards.values()})
        today = fields.Date.context_today(self)
        values_by_id = {}
        for partner in to_rate:
            score = cards[partner.id]["score"]
            rating = rating_for.get(score) or partner.credit_rating_id
            values_by_id[partner.id] = {
                "credit_score": score,
                "credit_rating_source": "scorecard",
                "credit_rating_date": today,
                "credit_rating_id": rating.id,
            }
        tracked = ["credit_score", "credit_rating_source", "credit_rating_id"]
        before = {partner.id: {fname: partner[fname] for fname in tracked} for partner in to_rate}
        to_rate._credit_store_company_values(values_by_id)
        if not (self.env.context.get("tracking_disable") or self.env.context.get("mail_notrack")):
            to_rate._credit_log_tracking(tracked, before)
        to_rate._notify_credit_rating_change(
            {pid: values["credit_rating_id"] for pid, values in before.items()}
        )
