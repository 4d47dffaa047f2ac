"""Credit check: the scheduled review of checks and limits that end soon (expiry, review tasks)."""

from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.tools import format_date

from ..lib.responsible import responsible_credit_manager


class CreditCheck(models.Model):
    _inherit = "credit.check"

    # === BUSINESS METHODS === #
    @api.model
    def _cron_review_checks(self, batch_size=200):
        """Expire done checks past their end of validity and open review activities for the
        credit managers of customers whose check or limit ends within the review lead time."""
        # sudo: the review spans every company, whatever the companies of the user running the job
        checks = self.sudo()
        today = fields.Date.context_today(self)
        expire_domain = [("state", "=", "done"), ("date_end", "<", today)]
        to_expire = checks.search(expire_domain, limit=batch_size)
        to_expire._action_expire()
        reviews = checks._get_due_reviews(today)
        scheduled = checks._schedule_reviews(reviews[:batch_size])
        self.env["ir.cron"]._notify_progress(
            done=len(to_expire) + scheduled,
            remaining=checks.search_count(expire_domain) + max(0, len(reviews) - batch_size),
        )

    @api.model
    def _get_due_reviews(self, today):
        """[(partner, company, review date, reasons, fallback user)] of customers whose latest
        check or credit limit ends within the review lead time and have no open review."""
        due = defaultdict(list)  # (partner id, company id) -> [(date, reason, fallback user)]
        for company in self.env["res.company"].search([]):
            horizon = today + timedelta(days=company.credit_review_lead_days)
            checks = self.search(
                [
                    ("company_id", "=", company.id),
                    ("state", "=", "done"),
                    ("date_end", ">=", today),
                    ("date_end", "<=", horizon),
                ]
            )
            for check in checks:
                if self._latest_valid_check(check.partner_id, company) == check:
                    reason = _(
                        "Credit check %(check)s expires on %(date)s.",
                        check=check.name,
                        date=format_date(self.env, check.date_end),
                    )
                    due[check.partner_id.id, company.id].append((check.date_end, reason, check.decided_by_id))
            partners = (
                self.env["res.partner"]
                .with_company(company)
                .search(
                    [
                        ("credit_limit_set", "=", True),
                        ("credit_limit_date_end", ">=", today),
                        ("credit_limit_date_end", "<=", horizon),
                    ]
                )
            )
            for partner in partners.commercial_partner_id:
                date_end = partner.credit_limit_date_end
                reason = _("The credit limit ends on %(date)s.", date=format_date(self.env, date_end))
                due[partner.id, company.id].append((date_end, reason, self.env["res.users"]))
        reviews = []
        for (partner_id, company_id), entries in due.items():
            partner = self.env["res.partner"].browse(partner_id)
            company = self.env["res.company"].browse(company_id)
            date = min(entry[0] for entry in entries)
            if self._has_open_review(partner, date, company):
                continue
            fallback = next((entry[2] for entry in entries if entry[2]), self.env["res.users"])
            reviews.append((partner, company, date, [entry[1] for entry in entries], fallback))
        reviews.sort(key=lambda review: (review[2], review[0].id))
        return reviews

    @api.model
    def _has_open_review(self, partner, date, company=None):
        return bool(
            self.env["credit.task"]
            .sudo()
            .search_count(
                [
                    ("partner_id", "=", partner.id),
                    ("task_type", "=", "review"),
                    ("origin", "=", "review_due"),
                    ("company_id", "=", (company or self.env.company).id),
                    ("is_open", "=", True),
                ],
                limit=1,
            )
        )

    @api.model
    def _schedule_reviews(self, reviews):
        # a review coming due is a task of the credit team (credit.task)
        for partner, company, date, reasons, fallback in reviews:
            user = responsible_credit_manager(self.env, partner, company, fallback)
            self.env["credit.task"]._create_auto(
                "review",
                "review_due",
                partner,
                _("Credit review due"),
                company=company,
                team="credit",
                user=user or self.env.user,
                date_deadline=date,
                description=Markup("<p>%s</p>") % Markup("<br/>").join(escape(reason) for reason in reasons),
            )
        return len(reviews)
