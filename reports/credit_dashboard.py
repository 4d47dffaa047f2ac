from datetime import datetime, time

import pytz
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.misc import format_date, formatLang

from ..lib.open_items import flush_open_items, open_receivable_where
from .credit_aging_report import BUCKETS

TOP_EXPOSURES = 10

# (key, unit, better): "lower" is better for days and overdue, "higher" for CEI and rates
KPI_CARDS = [
    ("dso", "days", "lower"),
    ("best_dso", "days", "lower"),
    ("add", "days", "lower"),
    ("cei", "percent", "higher"),
    ("overdue_share", "percent", "lower"),
    ("write_off_ratio", "percent", "lower"),
    ("dunning_effectiveness", "percent", "higher"),
    ("promise_kept_rate", "percent", "higher"),
    ("blocked_order_count", "count", "lower"),
    ("customers_over_limit", "count", "lower"),
    ("credit_sales", "amount", "higher"),
    ("receivables", "amount", "lower"),
]


class CreditDashboard(models.AbstractModel):
    """The figures of the Credit Control dashboard (an OWL client action) in one call:
    :meth:`get_data`. Every figure comes with the action that opens the records behind it."""

    _name = "credit.dashboard"
    _description = "Credit Control Dashboard"

    # === PUBLIC === #
    @api.model
    @api.readonly
    def get_data(self):
        """Everything the dashboard shows for the current company, read-only; set-based (the
        number of queries does not grow with customers or invoices)."""
        if not self.env.user.has_group("credit_control.credit_control_group_user"):
            raise AccessError(_("The Credit Control dashboard is for the credit team."))
        today = fields.Date.context_today(self)
        this_month = today.replace(day=1)
        exposures = self._exposures()
        over = [pid for pid, exposure in exposures.items() if exposure["over_limit"]]
        kpi = self.env["credit.kpi"]
        previous, current = kpi._compute_months(
            [this_month - relativedelta(months=1), this_month], today=today, over_limit_now=len(over)
        )
        return {
            "company": self.env.company.name,
            "today": fields.Date.to_string(today),
            "month": self._month_label(this_month),
            "previous_month": self._month_label(previous["month"]),
            "kpis": self._kpi_cards(current, previous, over),
            "dunning_levels": [
                dict(
                    level,
                    share_display=self._format(level["share"], "percent"),
                    action=self._window(
                        level["level"],
                        "credit.dunning.line",
                        [
                            ("company_id", "=", self.env.company.id),
                            ("letter_id.state", "=", "done"),
                            ("line_type", "=", "invoice"),
                            ("level_id", "=", level["level_id"]),
                            ("dunning_date", ">=", this_month),
                            ("dunning_date", "<=", this_month + relativedelta(day=31)),
                        ],
                    ),
                )
                for level in current["dunning_levels"]
            ],
            "aging": self._aging(today),
            "top_exposures": self._top_exposures(exposures),
            "over_limit": self._over_limit(exposures, over),
            "uninsured": self._uninsured_exposure(exposures),
            "blocked_orders": self._blocked_orders(),
            "promises": self._broken_promises(),
            "disputes": self._open_disputes(),
            "tasks": self._tasks_by_team(),
            # Credit Managers see when the base rate table lacks the current half-year
            "base_rate_warning": self.env.user.has_group("credit_control.credit_control_group_manager")
            and self.env["credit.base.rate"]._current_rate_missing_message(today),
        }

    # === SECTIONS === #
    @api.model
    def _kpi_cards(self, current, previous, over_ids):
        month = current["month"]
        labels = self._kpi_labels()
        cards = []
        for key, unit, better in KPI_CARDS:
            if key not in current:
                continue  # a KPI whose records do not exist in this database
            value, before = current[key], previous[key]
            delta = value - before
            cards.append(
                {
                    "key": key,
                    "label": labels[key],
                    "unit": unit,
                    "value": value,
                    "value_display": self._format(value, unit),
                    "previous": before,
                    "previous_display": self._format(before, unit),
                    "delta": delta,
                    "delta_display": ("+" if delta > 0 else "") + self._format(delta, unit),
                    "trend": "up" if delta > 0.0005 else "down" if delta < -0.0005 else "flat",
                    "good": (delta < 0) if better == "lower" else (delta > 0),
                    "action": self._kpi_action(key, month, current, over_ids),
                }
            )
        return cards

    @api.model
    def _kpi_labels(self):
        return {
            "dso": _("DSO (Countback)"),
            "best_dso": _("Best Possible DSO"),
            "add": _("Average Days Delinquent"),
            "cei": _("Collection Effectiveness (CEI)"),
            "overdue_share": _("Overdue Share"),
            "write_off_ratio": _("Write-off Ratio"),
            "dunning_effectiveness": _("Dunning Effectiveness"),
            "promise_kept_rate": _("Promise Kept Rate"),
            "blocked_order_count": _("Blocked Orders"),
            "customers_over_limit": _("Customers over Limit"),
            "credit_sales": _("Credit Sales"),
            "receivables": _("Receivables"),
        }

    @api.model
    def _kpi_action(self, key, month, kpi, over_ids):
        month_end = month + relativedelta(day=31)
        company_id = self.env.company.id
        if key == "credit_sales":
            return self._window(
                _("Credit Sales"),
                "account.move",
                [
                    ("company_id", "=", company_id),
                    ("state", "=", "posted"),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("invoice_date", ">=", month),
                    ("invoice_date", "<=", month_end),
                ],
            )
        if key == "write_off_ratio":
            return self._window(_("Write-offs"), "account.move", [("id", "in", kpi["write_off_move_ids"])])
        if key == "dunning_effectiveness":
            return self._window(
                _("Dunning Letters"),
                "credit.dunning.letter",
                [
                    ("company_id", "=", company_id),
                    ("state", "=", "done"),
                    ("dunning_date", ">=", month),
                    ("dunning_date", "<=", month_end),
                ],
            )
        if key == "blocked_order_count":
            start, stop = self._utc_range(month, month_end)
            return self._window(
                _("Blocked Orders"),
                "credit.decision",
                [
                    ("company_id", "=", company_id),
                    ("decision_type", "=", "block"),
                    ("order_id", "!=", False),
                    ("create_date", ">=", start),
                    ("create_date", "<", stop),
                ],
            )
        if key == "customers_over_limit":
            return self._window(_("Customers over Limit"), "res.partner", [("id", "in", over_ids)])
        if key == "promise_kept_rate":
            return self._window(
                _("Promises Due"),
                "credit.promise",
                [
                    ("company_id", "=", company_id),
                    ("date_promised", ">=", month),
                    ("date_promised", "<=", month_end),
                ],
            )
        if key in ("overdue_share", "add"):
            # the open invoices past due: what the overdue share counts (credits are never overdue)
            overdue = [("days_overdue", ">", 0), ("amount_open", ">", 0)]
            return self._aging_action(fields.Date.context_today(self), overdue, _("Overdue Invoices"))
        return self._aging_action(fields.Date.context_today(self))

    @api.model
    def _aging(self, today):
        buckets = self.env["credit.kpi"]._aging_buckets(today)
        totals = {"amount_%s" % key: amount for key, amount in buckets.items()}
        total = totals["amount_open"]
        largest = max([totals["amount_%s" % key] for key, _label in BUCKETS] + [0.0])
        labels = dict(self.env["credit.aging.report"]._fields["bucket"]._description_selection(self.env))
        return {
            "total": total,
            "total_display": self._format(total, "amount"),
            "action": self._aging_action(today),
            "buckets": [
                {
                    "key": key,
                    "label": labels[key],
                    "amount": totals["amount_%s" % key],
                    "amount_display": self._format(totals["amount_%s" % key], "amount"),
                    "percent": 100.0 * totals["amount_%s" % key] / total if total else 0.0,
                    "width": 100.0 * max(totals["amount_%s" % key], 0.0) / largest if largest > 0 else 0.0,
                    "action": self._aging_action(today, [("bucket", "=", key)], labels[key]),
                }
                for key, _label in BUCKETS
            ]
            + (
                [
                    {
                        # credits larger than their customers' open invoices: they make the
                        # buckets add up to the receivable balance
                        "key": "credit",
                        "label": _("Unapplied Credits"),
                        "amount": totals["amount_credit"],
                        "amount_display": self._format(totals["amount_credit"], "amount"),
                        "percent": 100.0 * totals["amount_credit"] / total if total else 0.0,
                        "width": 0.0,
                        "action": self._aging_action(
                            today, [("amount_credit", "<", 0)], _("Unapplied Credits")
                        ),
                    }
                ]
                if totals["amount_credit"]
                else []
            ),
        }

    @api.model
    def _top_exposures(self, exposures):
        top = sorted(exposures.items(), key=lambda item: item[1]["total"], reverse=True)[:TOP_EXPOSURES]
        names = dict(
            self.env["res.partner"].browse([pid for pid, _e in top]).mapped(lambda p: (p.id, p.name))
        )
        return [
            {
                "partner_id": pid,
                "name": names[pid],
                "exposure": exposure["total"],
                "exposure_display": self._format(exposure["total"], "amount"),
                "limit_display": self._format(exposure["limit"], "amount")
                if exposure["limit"] is not None
                else "",
                "overdue_display": self._format(exposure["overdue"], "amount"),
                "usage": exposure["usage"] or 0.0,
                "over_limit": exposure["over_limit"],
                "action": self._record_action("res.partner", pid, names[pid]),
            }
            for pid, exposure in top
            if exposure["total"] > 0
        ]

    @api.model
    def _over_limit(self, exposures, over_ids):
        amount = sum(exposures[pid]["total"] - (exposures[pid]["limit"] or 0.0) for pid in over_ids)
        return {
            "count": len(over_ids),
            "amount_display": self._format(amount, "amount"),
            "action": self._window(_("Customers over Limit"), "res.partner", [("id", "in", over_ids)]),
        }

    @api.model
    def _uninsured_exposure(self, exposures):
        """Credit insurance: the sum over insured customers (an insurer or a policy in this
        company) of their exposure above the insured limit; their limits in one query."""
        key = str(self.env.company.id)
        self.env["res.partner"].flush_model(
            ["credit_insurer_id", "credit_insurance_policy_id", "credit_insured_limit"]
        )
        rows = []
        if exposures:
            rows = self.env.execute_query(
                SQL(
                    """
                SELECT id, COALESCE((credit_insured_limit ->> %(key)s)::float8, 0)
                  FROM res_partner
                 WHERE id = ANY(%(ids)s)
                   AND (credit_insurer_id ->> %(key)s IS NOT NULL
                        OR credit_insurance_policy_id ->> %(key)s IS NOT NULL)
                    """,
                    key=key,
                    ids=list(exposures),
                )
            )
        parts = {pid: max(0.0, exposures[pid]["total"] - insured) for pid, insured in rows}
        uninsured = [pid for pid, amount in parts.items() if amount > 0]
        return {
            "count": len(uninsured),
            "amount": sum(parts.values()),
            "amount_display": self._format(sum(parts.values()), "amount"),
            "action": self._window(
                _("Customers above their Insured Limit"), "res.partner", [("id", "in", uninsured)]
            ),
        }

    @api.model
    def _blocked_orders(self):
        domain = [
            ("company_id", "=", self.env.company.id),
            ("credit_block_state", "in", ("blocked", "requested")),
            ("state", "in", ("draft", "sent")),
        ]
        # sudo: collectors see the count and amount; opening the list applies their own rights
        [(count, amount)] = (
            self.env["sale.order"].sudo()._read_group(domain, [], ["__count", "amount_total:sum"])
        )
        return {
            "count": count,
            "amount_display": self._format(amount or 0.0, "amount"),
            "action": self._window(_("Credit-blocked Orders"), "sale.order", domain),
        }

    @api.model
    def _broken_promises(self):
        company = self.env.company
        domain = [("company_id", "=", company.id), ("state", "=", "broken")]
        groups = self.env["credit.promise"]._read_group(domain, ["currency_id"], ["__count", "amount:sum"])
        today = fields.Date.context_today(self)
        amount = sum(
            currency._convert(total or 0.0, company.currency_id, company, today)
            for currency, _c, total in groups
        )
        return {
            "count": sum(count for _currency, count, _total in groups),
            "amount_display": self._format(amount, "amount"),
            "action": self._window(_("Broken Promises"), "credit.promise", domain),
        }

    @api.model
    def _open_disputes(self):
        domain = [
            ("company_id", "=", self.env.company.id),
            ("state", "in", ("open", "progress")),
        ]
        [(count,)] = self.env["credit.dispute"]._read_group(domain, [], ["__count"])
        return {"count": count, "action": self._window(_("Open Disputes"), "credit.dispute", domain)}

    @api.model
    def _tasks_by_team(self):
        Task = self.env["credit.task"]
        domain = [("company_id", "=", self.env.company.id), ("is_open", "=", True)]
        labels = dict(Task._fields["team"]._description_selection(self.env))
        counts = dict(Task._read_group(domain, ["team"], ["__count"]))
        return [
            {
                "team": team,
                "label": label,
                "count": counts.get(team, 0),
                "action": self._window(
                    _("Open Tasks: %(team)s", team=label), "credit.task", domain + [("team", "=", team)]
                ),
            }
            for team, label in labels.items()
        ]

    # === TOOLING === #
    @api.model
    def _exposures(self):
        """Exposure of every customer that has one: commercial partners with open receivable items
        or uninvoiced confirmed orders in the current company (one query), then their exposures
        set-based (:meth:`res.partner._get_credit_exposures`)."""
        company_id = self.env.company.id
        flush_open_items(self.env)
        self.env["sale.order"].flush_model(["state", "invoice_status", "partner_id", "company_id"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT p.commercial_partner_id
              FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE %(open_items)s
             UNION
            SELECT p.commercial_partner_id
              FROM sale_order o
              JOIN res_partner p ON p.id = o.partner_id
             WHERE o.company_id = %(company_id)s AND o.state = 'sale' AND o.invoice_status = 'to invoice'
                """,
                company_id=company_id,
                open_items=open_receivable_where(company_id=company_id, account="a"),
            )
        )
        # sudo: the exposure reads journal items and orders collectors may not read one by one
        partners = self.env["res.partner"].sudo().browse([row[0] for row in rows])
        return partners._get_credit_exposures() if partners else {}

    @api.model
    def _format(self, value, unit):
        if unit == "amount":
            return formatLang(self.env, value or 0.0, currency_obj=self.env.company.currency_id)
        if unit == "percent":
            return "%s %%" % formatLang(self.env, value or 0.0, digits=1)
        if unit == "days":
            return formatLang(self.env, value or 0.0, digits=1)
        return str(int(value or 0))

    @api.model
    def _month_label(self, month):
        return format_date(self.env, month, date_format="MMMM yyyy")

    @api.model
    def _utc_range(self, date_from, date_to):
        """The UTC datetimes of the user's local midnight on ``date_from`` and after ``date_to``."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        start = tz.localize(datetime.combine(date_from, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
        stop = tz.localize(datetime.combine(date_to + relativedelta(days=1), time.min))
        return fields.Datetime.to_string(start), fields.Datetime.to_string(
            stop.astimezone(pytz.utc).replace(tzinfo=None)
        )

    @api.model
    def _window(self, name, model, domain):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "views": [[False, "list"], [False, "form"]],
            "domain": domain,
            "context": {"create": False},
        }

    @api.model
    def _record_action(self, model, res_id, name):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "res_id": res_id,
            "views": [[False, "form"]],
        }

    @api.model
    def _aging_action(self, as_of, domain=None, name=None):
        return {
            "type": "ir.actions.act_window",
            "name": name or _("Receivables Aging"),
            "res_model": "credit.aging.report",
            "views": [[False, "list"], [False, "pivot"], [False, "graph"]],
            "domain": [("company_id", "=", self.env.company.id)] + (domain or []),
            "context": {"aging_date": fields.Date.to_string(as_of)},
        }
