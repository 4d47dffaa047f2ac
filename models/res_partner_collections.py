from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .res_partner import CREDIT_READ_GROUPS


class ResPartner(models.Model):
    _inherit = "res.partner"

    # === FIELDS: collaboration tasks, escalation, promises to pay, disputes, payment plans === #
    credit_task_count = fields.Integer(
        string="Open Tasks",
        compute="_compute_credit_task_count",
        groups="sales_team.group_sale_salesman,credit_control.credit_control_group_user",
    )
    credit_escalation_manual_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Manual Escalation Level",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="Set by a Credit Manager with a reason: replaces the level reached by dunning until "
        "it is removed.",
    )
    credit_escalation_reason = fields.Char(
        string="Escalation Reason", company_dependent=True, tracking=True, groups=CREDIT_READ_GROUPS
    )
    credit_escalation_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Escalation Level",
        compute="_compute_credit_escalation",
        search="_search_credit_escalation_level_id",
        groups=CREDIT_READ_GROUPS,
        help="The manual escalation level if one is set, else the highest dunning level of the "
        "customer's open invoices in the current company.",
    )
    credit_escalation_owner = fields.Selection(
        [("sales", "Salesperson"), ("credit", "Credit Team"), ("agency", "Collection Agency / Legal")],
        string="Case Owner",
        compute="_compute_credit_escalation",
        search="_search_credit_escalation_owner",
        groups=CREDIT_READ_GROUPS,
        help="Who works the case now, from the company's escalation policy: the salesperson below "
        "the credit team level, the credit team from it, a collection agency or legal action from "
        "the agency level or while invoices are handed over to an agency.",
    )
    credit_promise_kept_rate = fields.Float(
        string="Promises Kept (%)",
        compute="_compute_credit_promise_stats",
        groups=CREDIT_READ_GROUPS,
        digits=(16, 1),
        help="Kept ÷ (kept + broken) promises to pay closed within the payment behaviour window.",
    )
    credit_promise_kept_count = fields.Integer(
        string="Promises Kept", compute="_compute_credit_promise_stats", groups=CREDIT_READ_GROUPS
    )
    credit_promise_broken_count = fields.Integer(
        string="Promises Broken", compute="_compute_credit_promise_stats", groups=CREDIT_READ_GROUPS
    )
    credit_promise_count = fields.Integer(
        string="Promises to Pay", compute="_compute_credit_collection_counts", groups=CREDIT_READ_GROUPS
    )
    credit_dispute_count = fields.Integer(
        string="Open Disputes", compute="_compute_credit_collection_counts", groups=CREDIT_READ_GROUPS
    )
    credit_payment_plan_count = fields.Integer(
        string="Payment Plans", compute="_compute_credit_collection_counts", groups=CREDIT_READ_GROUPS
    )

    # === COMPUTE === #
    def _compute_credit_task_count(self):
        # the user's own access decides what is counted (salespeople: their own tasks)
        counts = dict(
            self.env["credit.task"]._read_group(
                [("partner_id", "in", self.commercial_partner_id._origin.ids), ("is_open", "=", True)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.credit_task_count = counts.get(partner.commercial_partner_id._origin, 0)

    @api.depends_context("company")
    def _compute_credit_escalation(self):
        rows = self.env["credit.partner.escalation"]._escalation_by_partner(
            self.commercial_partner_id._origin.ids, self.env.company
        )
        Level = self.env["credit.dunning.level"]
        for partner in self:
            row = rows.get(partner.commercial_partner_id._origin.id)
            partner.credit_escalation_level_id = Level.browse(row["level_id"]) if row else False
            partner.credit_escalation_owner = row["owner"] if row else "sales"

    def _search_credit_escalation_level_id(self, operator, value):
        return self._search_credit_escalation("level_id", operator, value)

    def _search_credit_escalation_owner(self, operator, value):
        return self._search_credit_escalation("owner", operator, value)

    def _search_credit_escalation(self, field, operator, value):
        Escalation = self.env["credit.partner.escalation"].sudo()
        company_domain = [("company_id", "=", self.env.company.id)]
        if field == "owner" and (
            (operator in ("=", "in") and "sales" in (value if isinstance(value, list | tuple) else [value]))
            or operator in ("!=", "not in")
        ):
            # "sales" is also every customer without escalation row: search the complement
            values = value if isinstance(value, list | tuple) else [value]
            wanted = set(values) if operator in ("=", "in") else {"sales", "credit", "agency"} - set(values)
            others = {"credit", "agency"} - wanted
            ids = Escalation.search(company_domain + [("owner", "in", list(others))]).partner_id.ids
            if "sales" in wanted:
                return [("commercial_partner_id", "not in", ids)]
            return [("commercial_partner_id", "in", ids)]
        if operator in ("=", "!=") and value is False:
            ids = Escalation.search(company_domain + [("level_id", "!=", False)]).partner_id.ids
            return [("commercial_partner_id", "not in" if operator == "=" else "in", ids)]
        ids = Escalation.search(company_domain + [(field, operator, value)]).partner_id.ids
        return [("commercial_partner_id", "in", ids)]

    @api.depends_context("company")
    def _compute_credit_promise_stats(self):
        stats = self._get_credit_promise_stats()
        for partner in self:
            kept, broken = stats.get(partner.commercial_partner_id.id, (0, 0))
            partner.credit_promise_kept_count = kept
            partner.credit_promise_broken_count = broken
            partner.credit_promise_kept_rate = 100.0 * kept / (kept + broken) if kept + broken else 0.0

    @api.depends_context("company")
    def _compute_credit_collection_counts(self):
        partners = self.commercial_partner_id
        company_domain = [("partner_id", "in", partners.ids), ("company_id", "in", self.env.companies.ids)]
        # sudo: counts on the customer form; the buttons open what the user may read
        counts = {}
        for key, model, extra in (
            ("promise", "credit.promise", [("state", "=", "open")]),
            ("dispute", "credit.dispute", [("state", "in", ("open", "progress"))]),
            ("plan", "credit.payment.plan", [("state", "in", ("draft", "active"))]),
        ):
            for partner, count in (
                self.env[model].sudo()._read_group(company_domain + extra, ["partner_id"], ["__count"])
            ):
                counts[key, partner.id] = count
        for partner in self:
            pid = partner.commercial_partner_id.id
            partner.credit_promise_count = counts.get(("promise", pid), 0)
            partner.credit_dispute_count = counts.get(("dispute", pid), 0)
            partner.credit_payment_plan_count = counts.get(("plan", pid), 0)

    # === CONSTRAINTS === #
    @api.constrains("credit_escalation_manual_level_id", "credit_escalation_reason")
    def _check_credit_escalation_reason(self):
        for partner in self:
            level = partner.credit_escalation_manual_level_id
            if level and not (partner.credit_escalation_reason or "").strip():
                raise ValidationError(
                    _(
                        "Setting the escalation level of %(partner)s by hand needs a reason.",
                        partner=partner.display_name,
                    )
                )
            if level and level.company_id != self.env.company:
                raise ValidationError(
                    _(
                        "The escalation level %(level)s belongs to another company.",
                        level=level.display_name,
                    )
                )

    # === ACTIONS === #
    def action_view_credit_tasks(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_task_action_partner")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {
            "default_partner_id": self.commercial_partner_id.id,
            "search_default_open": 1,
        }
        return action

    def _credit_collection_action(self, xmlid):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def action_view_credit_promises(self):
        return self._credit_collection_action("credit_control.credit_promise_action")

    def action_view_credit_disputes(self):
        return self._credit_collection_action("credit_control.credit_dispute_action")

    def action_view_credit_payment_plans(self):
        return self._credit_collection_action("credit_control.credit_payment_plan_action")

    # === BUSINESS METHODS === #
    def _get_credit_promise_stats(self):
        """(kept, broken) promises per commercial partner id, closed in the payment behaviour
        window of the current company: one aggregate query for all partners."""
        months = self.env.company.credit_behaviour_months or 12
        window_start = fields.Date.context_today(self) - relativedelta(months=months)
        # sudo: the rate is part of the payment behaviour that salespeople and accountants read
        groups = (
            self.env["credit.promise"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                    ("state", "in", ("kept", "broken")),
                    ("date_closed", ">=", window_start),
                ],
                ["partner_id", "state"],
                ["__count"],
            )
        )
        stats = {}
        for partner, state, count in groups:
            kept, broken = stats.get(partner.id, (0, 0))
            stats[partner.id] = (kept + count, broken) if state == "kept" else (kept, broken + count)
        return stats
