"""Collector worklist: "Why today", the facts behind each line's points as short sentences."""

from ast import literal_eval

from odoo import api, fields, models
from odoo.tools import format_date, get_lang

from odoo.addons.base.models.res_lang import intersperse


class CreditWorklist(models.Model):
    _inherit = "credit.worklist"

    # === FIELDS === #
    reasons = fields.Text(compute="_compute_reasons", string="Why Today")

    # === COMPUTE === #
    @api.depends_context("company", "lang")
    def _compute_reasons(self):
        today = self._worklist_date()
        formatters = {}
        for line in self:
            currency = line.currency_id or self.env.company.currency_id
            if currency not in formatters:
                formatters[currency] = self._amount_formatter(currency)
            line.reasons = "\n".join(line._get_reasons(today, formatters[currency]))

    @api.model
    def _amount_formatter(self, currency):
        """A function giving ``format_amount(env, value, currency)`` for many values: the
        language's separators are looked up once, not once per amount (the reasons of every
        line of the list hold up to four amounts)."""
        lang = get_lang(self.env)
        grouping, separator, point = literal_eval(lang.grouping), lang.thousands_sep or "", lang.decimal_point
        pattern = "%%.%sf" % currency.decimal_places
        pre = post = ""
        if currency.position == "before":
            pre = "%s\N{NO-BREAK SPACE}" % (currency.symbol or "")
        else:
            post = "\N{NO-BREAK SPACE}%s" % (currency.symbol or "")

        def money(value):
            parts = (pattern % currency.round(value)).split(".")
            parts[0] = intersperse(parts[0], grouping, separator)[0]
            amount = point.join(parts).replace(" ", "\N{NO-BREAK SPACE}")
            return pre + amount.replace("-", "-\N{ZERO WIDTH NO-BREAK SPACE}") + post

        return money

    def _get_reasons(self, today, money=None):
        """The facts behind the points of this line, as short sentences for the collector.
        ``money``: the amount formatter of the line's currency (:meth:`_amount_formatter`).

        Long: one sentence per factor, in the order the collector reads them, each with its
        singular/plural wording spelled out for the translators."""
        self.ensure_one()
        currency = self.currency_id or self.env.company.currency_id
        money = money or self._amount_formatter(currency)

        def ago(date):
            days = (today - date).days
            if days <= 0:
                return self.env._("today")
            if days == 1:
                return self.env._("yesterday")
            return self.env._("%(days)s days ago", days=days)

        reasons = []
        if self.overdue_count:
            reasons.append(
                self.env._(
                    "%(count)s invoices %(days)s days overdue (%(amount)s): %(points)s points",
                    count=self.overdue_count,
                    days=self.days_overdue,
                    amount=money(self.overdue_amount),
                    points=self.points_overdue + self.points_days,
                )
                if self.overdue_count > 1
                else self.env._(
                    "1 invoice %(days)s days overdue (%(amount)s): %(points)s points",
                    days=self.days_overdue,
                    amount=money(self.overdue_amount),
                    points=self.points_overdue + self.points_days,
                )
            )
        if self.promise_broken_count:
            reasons.append(
                self.env._(
                    "Promise broken %(when)s: %(points)s points",
                    when=ago(self.date_promise_broken)
                    if self.date_promise_broken
                    else self.env._("recently"),
                    points=self.points_promise_broken,
                )
            )
        if self.promise_due_count:
            reasons.append(
                self.env._(
                    "Promise of %(amount)s due today: %(points)s points",
                    amount=money(self.promise_due_amount),
                    points=self.points_promise_due,
                )
            )
        if self.task_due_count or self.activity_due_count:
            reasons.append(
                self.env._(
                    "Follow-ups due since %(date)s: tasks %(tasks)s, activities %(activities)s: "
                    "%(points)s points",
                    date=format_date(self.env, self.date_followup),
                    tasks=self.task_due_count,
                    activities=self.activity_due_count,
                    points=self.points_followup,
                )
            )
        if self.limitation_count:
            reasons.append(
                self.env._(
                    "Time-barred on %(date)s: %(count)s open items (%(amount)s): %(points)s points",
                    count=self.limitation_count,
                    amount=money(self.limitation_amount),
                    date=format_date(self.env, self.date_limitation),
                    points=self.points_limitation,
                )
            )
        if self.rating_id:
            reasons.append(
                self.env._(
                    "Risk rating %(rating)s (score %(score)s): %(points)s points",
                    rating=self.rating_id.display_name,
                    score=self.score,
                    points=self.points_rating,
                )
            )
        else:
            reasons.append(self.env._("Not rated: %(points)s points", points=self.points_rating))
        if self.credit_amount:
            reasons.append(
                self.env._(
                    "%(amount)s open credits offset against the oldest invoices",
                    amount=money(self.credit_amount),
                )
            )
        if self.disputed_amount:
            reasons.append(
                self.env._("%(amount)s disputed (not counted)", amount=money(self.disputed_amount))
            )
        if self.promised_amount:
            reasons.append(
                self.env._(
                    "%(amount)s under an open promise (not counted)", amount=money(self.promised_amount)
                )
            )
        return reasons
