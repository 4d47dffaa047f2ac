from datetime import timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, float_round, format_amount

# Server-side sentinel: code that has verified the user may change a credit profile (approval
# of a check or a limit request) writes with ``credit_profile_write=CREDIT_PROFILE_WRITE`` in the
# context. RPC callers cannot forge this object, so the context key cannot bypass the check.
CREDIT_PROFILE_WRITE = object()

# Fields only a Credit Manager may change: credit decisions. ``credit_limit`` and
# ``use_partner_credit_limit`` are Odoo's own limit fields (account), ``credit_limit_set`` their
# stored mirror (see _credit_limit_vals).
PROTECTED_CREDIT_FIELDS = frozenset(
    {
        "credit_limit",
        "use_partner_credit_limit",
        "credit_limit_set",
        "credit_limit_date_end",
        "credit_review_date",
        "credit_hold",
        "credit_hold_reason",
        "credit_rating_id",
        "credit_score",
        "credit_rating_date",
        "credit_rating_source",
        "credit_manager_id",
        "credit_insurer_id",
        "credit_insurance_policy",
        "credit_insured_limit",
        "credit_insurance_date_end",
        "credit_escalation_manual_level_id",
        "credit_escalation_reason",
    }
)

# Stored payment behaviour, written by the nightly refresh only.
BEHAVIOUR_FIELDS = (
    "credit_avg_days_to_pay",
    "credit_avg_days_late",
    "credit_late_share",
    "credit_max_days_late",
    "credit_paid_invoice_count",
    "credit_dso",
)

# Dunning pause of a customer: the credit team's (credit collectors and managers) decision.
DUNNING_PAUSE_FIELDS = frozenset(
    {"credit_dunning_pause", "credit_dunning_pause_reason", "credit_dunning_pause_until"}
)

# Figures only the refresh writes (they feed the scorecard and with it the rating).
COMPUTED_PROFILE_FIELDS = frozenset({*BEHAVIOUR_FIELDS, "credit_dunning_count", "credit_behaviour_date"})

# The credit profile: kept on the commercial partner only, never copied to or from contacts.
CREDIT_PROFILE_FIELDS = PROTECTED_CREDIT_FIELDS | DUNNING_PAUSE_FIELDS | COMPUTED_PROFILE_FIELDS

# Having one of these (in any company) makes a partner a customer with a credit profile: moving
# it in the partner hierarchy is a Credit Manager's action.
CREDIT_PROFILE_MARKERS = ("credit_limit_set", "credit_hold", "credit_rating_id")


def drop_protected_defaults(records, values, protected, privileged):
    """``default_get`` helper: a ``default_*`` context key or a personal default (ir.default)
    must not pre-set a protected field for an unprivileged user. The field's own default (a
    draft state, no approver...) is kept; any other default of a protected field is dropped."""
    if privileged or records.env.su:
        return values
    for name in protected.intersection(values):
        field = records._fields[name]
        if field.default and not field.company_dependent:
            value = field.convert_to_cache(field.default(records), records, validate=False)
            values[name] = field.convert_to_write(value, records)
        else:
            del values[name]
    return values


CREDIT_READ_GROUPS = (
    "sales_team.group_sale_salesman,account.group_account_invoice,"
    "account.group_account_readonly,credit_control.credit_control_group_user"
)

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

    # === FIELDS: credit profile (per company) === #
    # One limit, Odoo's: ``credit_limit`` with ``use_partner_credit_limit`` (account) decide, as
    # in core. Writing ``credit_limit`` gives the customer its own limit (0 = prepayment only);
    # ``use_partner_credit_limit = False`` takes it away (back to the company default limit).
    # ``credit_limit_set`` is the stored mirror of ``use_partner_credit_limit`` (per company),
    # kept in step by create/write (_credit_limit_vals) and at install (_credit_adopt_core_limits).
    credit_limit = fields.Float(
        groups=CREDIT_READ_GROUPS,
        tracking=True,
        help="The customer's own credit limit in company currency, when 'Own Credit Limit' is on "
        "(0 = prepayment only). Without an own limit the company's default credit limit applies "
        "(Accounting settings); without that either, the customer has no limit.",
    )
    use_partner_credit_limit = fields.Boolean(
        string="Own Credit Limit",
        groups=CREDIT_READ_GROUPS,
        help="On: the customer's own credit limit applies (0 = prepayment only). Off: the "
        "company's default credit limit applies, if the company has one.",
    )
    credit_limit_set = fields.Boolean(
        string="Own Limit in Force",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="Follows Odoo's 'Own Credit Limit' (use_partner_credit_limit) on every write.",
    )
    credit_limit_date_end = fields.Date(
        string="Limit Valid Until", company_dependent=True, tracking=True, groups=CREDIT_READ_GROUPS
    )
    credit_review_date = fields.Date(
        string="Next Credit Review", company_dependent=True, tracking=True, groups=CREDIT_READ_GROUPS
    )
    credit_hold = fields.Boolean(
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="Manual block: no new orders are confirmed for this customer.",
    )
    credit_hold_reason = fields.Char(company_dependent=True, tracking=True, groups=CREDIT_READ_GROUPS)
    credit_rating_id = fields.Many2one(
        "credit.rating",
        string="Risk Rating",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
    )
    credit_rating_color = fields.Integer(related="credit_rating_id.color", groups=CREDIT_READ_GROUPS)
    credit_score = fields.Integer(
        string="Risk Score",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="0 (highest risk) to 100 (lowest risk).",
    )
    credit_rating_date = fields.Date(string="Rated On", company_dependent=True, groups=CREDIT_READ_GROUPS)
    credit_rating_source = fields.Selection(
        [("manual", "Manual"), ("scorecard", "Scorecard"), ("check", "Credit Check")],
        string="Rating Source",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
    )
    credit_manager_id = fields.Many2one(
        "res.users",
        string="Credit Manager",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="Credit manager responsible for this customer, beside the salesperson.",
    )
    credit_insurer_id = fields.Many2one(
        "res.partner",
        string="Credit Insurer",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
    )
    credit_insurance_policy = fields.Char(
        string="Insurance Policy", company_dependent=True, tracking=True, groups=CREDIT_READ_GROUPS
    )
    credit_insured_limit = fields.Float(
        string="Insured Limit", company_dependent=True, tracking=True, groups=CREDIT_READ_GROUPS
    )
    credit_insurance_date_end = fields.Date(
        string="Insurance Valid Until", company_dependent=True, tracking=True, groups=CREDIT_READ_GROUPS
    )
    credit_insurance_exceeded = fields.Boolean(
        string="Limit Above Insured Limit",
        compute="_compute_credit_insurance_exceeded",
        groups=CREDIT_READ_GROUPS,
    )

    # === FIELDS: live exposure (company currency, current company) === #
    credit_currency_id = fields.Many2one("res.currency", compute="_compute_credit_currency_id")
    credit_receivable = fields.Monetary(
        string="Open Receivables",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_overdue_amount = fields.Monetary(
        string="Overdue",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_overdue_days = fields.Integer(
        string="Oldest Overdue (Days)", compute="_compute_credit_exposure", groups=CREDIT_READ_GROUPS
    )
    credit_draft_invoices = fields.Monetary(
        string="Draft Invoices",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_uninvoiced_orders = fields.Monetary(
        string="Orders Not Invoiced",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_exposure = fields.Monetary(
        string="Total Exposure",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_has_limit = fields.Boolean(
        string="Has a Credit Limit",
        compute="_compute_credit_exposure",
        groups=CREDIT_READ_GROUPS,
        help="A credit limit applies: the customer's own or the company's default limit.",
    )
    credit_limit_in_force = fields.Monetary(
        string="Limit in Force",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
        help="The customer's own credit limit, else the company's default credit limit.",
    )
    credit_available = fields.Monetary(
        string="Available Credit",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_usage = fields.Float(
        string="Limit Used (%)", compute="_compute_credit_exposure", groups=CREDIT_READ_GROUPS
    )
    credit_over_limit = fields.Boolean(
        string="Over Limit",
        compute="_compute_credit_exposure",
        search="_search_credit_over_limit",
        groups=CREDIT_READ_GROUPS,
    )
    credit_review_due = fields.Boolean(
        string="Review Due",
        compute="_compute_credit_review_due",
        search="_search_credit_review_due",
        groups=CREDIT_READ_GROUPS,
    )

    # === FIELDS: payment behaviour (stored per company, refreshed nightly) === #
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
    credit_dunning_count = fields.Integer(
        string="Dunning Letters Received", company_dependent=True, groups=CREDIT_READ_GROUPS
    )
    credit_dso = fields.Float(
        string="Customer DSO (Days)", company_dependent=True, groups=CREDIT_READ_GROUPS, digits=(16, 1)
    )
    credit_behaviour_date = fields.Date(
        string="Behaviour Updated On", company_dependent=True, groups=CREDIT_READ_GROUPS
    )
    credit_check_ids = fields.One2many("credit.check", "partner_id", string="Credit Checks")
    credit_check_count = fields.Integer(
        string="Number of Credit Checks", compute="_compute_credit_check_count", groups=CREDIT_READ_GROUPS
    )
    credit_decision_count = fields.Integer(
        string="Credit Decisions", compute="_compute_credit_decision_count", groups=CREDIT_READ_GROUPS
    )
    credit_scorecard_html = fields.Html(
        string="Scorecard",
        compute="_compute_credit_scorecard_html",
        sanitize=False,
        groups=CREDIT_READ_GROUPS,
    )
    # === FIELDS: dunning (credit_dunning) === #
    credit_dunning_pause = fields.Boolean(
        string="Dunning Paused",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="No dunning letters for this customer while paused. Without an end date the customer "
        "is excluded from dunning ('no dunning').",
    )
    credit_dunning_pause_reason = fields.Char(
        string="Dunning Pause Reason", company_dependent=True, tracking=True, groups=CREDIT_READ_GROUPS
    )
    credit_dunning_pause_until = fields.Date(
        string="Dunning Paused Until",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="Dunning resumes by itself on this date.",
    )
    credit_dunning_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Dunning Level",
        compute="_compute_credit_dunning_level_id",
        groups=CREDIT_READ_GROUPS,
        help="Highest dunning level of the customer's open invoices in the current company.",
    )

    # === COMPUTE === #
    @api.depends_context("company")
    def _compute_credit_currency_id(self):
        self.credit_currency_id = self.env.company.currency_id

    @api.depends("credit_limit_set")
    @api.depends_context("company")
    def _compute_use_partner_credit_limit(self):
        # overrides account: the stored flag, not "differs from the company default", so that an
        # own limit equal to the default (or 0 = prepayment only) stays the customer's own
        for partner in self:
            partner.use_partner_credit_limit = partner.credit_limit_set

    def _inverse_use_partner_credit_limit(self):
        # write() maps use_partner_credit_limit to credit_limit_set (and back to the company
        # default limit when switched off) before the ORM would call this inverse
        return

    @api.depends("credit_limit", "credit_limit_set", "credit_insured_limit", "credit_insurer_id")
    @api.depends_context("company")
    def _compute_credit_insurance_exceeded(self):
        limits = self._credit_limits_in_force()
        for partner in self:
            commercial = partner.commercial_partner_id
            limit = limits.get(commercial.id)
            partner.credit_insurance_exceeded = bool(
                limit is not None
                and (commercial.credit_insurer_id or commercial.credit_insured_limit)
                and limit > commercial.credit_insured_limit
            )

    @api.depends_context("company")
    def _compute_credit_exposure(self):
        exposures = self._get_credit_exposures()
        rows = [exposures[partner.commercial_partner_id.id] for partner in self]
        # values are already rounded to the company currency: fill the cache in bulk
        # (per-record assignment would convert every amount again)
        cache = self.env.cache
        for field_name, key, empty in (
            ("credit_receivable", "receivable", 0.0),
            ("credit_overdue_amount", "overdue", 0.0),
            ("credit_overdue_days", "overdue_days", 0),
            ("credit_draft_invoices", "draft_invoices", 0.0),
            ("credit_uninvoiced_orders", "uninvoiced_orders", 0.0),
            ("credit_exposure", "total", 0.0),
            ("credit_available", "available", 0.0),
            ("credit_usage", "usage", 0.0),
            ("credit_over_limit", "over_limit", False),
            ("credit_limit_in_force", "limit", 0.0),
        ):
            cache.update(self, self._fields[field_name], [row[key] or empty for row in rows])
        cache.update(self, self._fields["credit_has_limit"], [row["limit"] is not None for row in rows])

    def _search_credit_over_limit(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise ValidationError(_("Over Limit can only be searched as true or false."))
        # only commercial partners with a limit can be over it: aggregate just those, in SQL
        # (with a company default limit, every customer without an own limit has one)
        commercial = ["|", ("is_company", "=", True), ("parent_id", "=", False)]
        limited_domain = [("credit_limit_set", "=", True)]
        if self._fields["credit_limit"].get_company_dependent_fallback(self):
            limited_domain = ["|", ("customer_rank", ">", 0), *limited_domain]
        limited = self.with_context(active_test=False).search(commercial + limited_domain)
        exposures = limited._get_credit_exposures()
        over_ids = [pid for pid, exposure in exposures.items() if exposure["over_limit"]]
        positive = (operator == "=") == value
        return [("commercial_partner_id", "in" if positive else "not in", over_ids)]

    @api.depends("credit_review_date", "credit_limit_date_end")
    @api.depends_context("company")
    def _compute_credit_review_due(self):
        horizon = fields.Date.context_today(self) + timedelta(days=self._credit_review_lead_days())
        for partner in self:
            commercial = partner.commercial_partner_id
            dates = [d for d in (commercial.credit_review_date, commercial.credit_limit_date_end) if d]
            partner.credit_review_due = bool(dates) and min(dates) <= horizon

    def _search_credit_review_due(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise ValidationError(_("Review Due can only be searched as true or false."))
        horizon = fields.Date.context_today(self) + timedelta(days=self._credit_review_lead_days())
        domain = [
            "|",
            ("commercial_partner_id.credit_review_date", "<=", horizon),
            ("commercial_partner_id.credit_limit_date_end", "<=", horizon),
        ]
        return domain if (operator == "=") == value else ["!", *domain]

    def _compute_credit_check_count(self):
        # sudo: the count is shown to salespeople, who may not read the checks themselves
        counts = dict(
            self.env["credit.check"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "in", self.env.companies.ids),
                ],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.credit_check_count = counts.get(partner.commercial_partner_id.sudo(), 0)

    def _compute_credit_decision_count(self):
        counts = dict(
            self.env["credit.decision"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.credit_decision_count = counts.get(partner.commercial_partner_id, 0)

    @api.depends_context("company")
    def _compute_credit_scorecard_html(self):
        for partner in self:
            card = partner.commercial_partner_id._get_credit_scorecard()
            rows = Markup("").join(
                Markup(
                    "<tr><td>%s</td><td class='text-end'>%s</td><td class='text-end'>%s</td>"
                    "<td class='text-end'>%s</td></tr>"
                )
                % (escape(f["label"]), escape(f["value"]), f["weight"], "%.1f" % f["contribution"])
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

    # === CONSTRAINTS === #
    @api.constrains("credit_limit", "credit_insured_limit")
    def _check_credit_limit_positive(self):
        for partner in self:
            if partner.credit_limit < 0 or partner.credit_insured_limit < 0:
                raise ValidationError(
                    _("The credit limit of %(partner)s cannot be negative.", partner=partner.display_name)
                )

    @api.constrains("credit_hold", "credit_hold_reason")
    def _check_credit_hold_reason(self):
        for partner in self:
            if partner.credit_hold and not (partner.credit_hold_reason or "").strip():
                raise ValidationError(
                    _("Putting %(partner)s on credit hold needs a reason.", partner=partner.display_name)
                )

    @api.constrains("credit_score")
    def _check_credit_score(self):
        for partner in self:
            if not 0 <= partner.credit_score <= 100:
                raise ValidationError(
                    _(
                        "The risk score of %(partner)s must lie between 0 and 100.",
                        partner=partner.display_name,
                    )
                )

    # === CRUD === #
    @api.model
    def _commercial_fields(self):
        # The credit profile lives on the commercial partner only: Odoo must not copy it (as
        # superuser) between a company and its contacts when the hierarchy changes. account
        # lists credit_limit here; every read of the profile goes through commercial_partner_id.
        return [name for name in super()._commercial_fields() if name not in CREDIT_PROFILE_FIELDS]

    @api.model
    def default_get(self, fields_list):
        # a default_* context key or a personal default must not pre-set the credit profile
        values = super().default_get(fields_list)
        drop_protected_defaults(
            self, values, PROTECTED_CREDIT_FIELDS | COMPUTED_PROFILE_FIELDS, self._is_credit_manager()
        )
        drop_protected_defaults(self, values, DUNNING_PAUSE_FIELDS, self._is_credit_team())
        return values

    def copy_data(self, default=None):
        # a duplicate is a new customer: it gets no credit decision of the original (nor would a
        # salesperson be allowed to give it one); what ``default`` names is checked at create
        vals_list = super().copy_data(default=default)
        kept = set(default or ())
        for vals in vals_list:
            for name in (PROTECTED_CREDIT_FIELDS | COMPUTED_PROFILE_FIELDS | DUNNING_PAUSE_FIELDS) - kept:
                vals.pop(name, None)
        return vals_list

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_credit_profile_write_access(vals)
            if vals.get("parent_id") and not vals.get("is_company"):
                company = self.browse(vals["parent_id"]).commercial_partner_id
                self._check_credit_profile_on_contacts(vals, company)
            self._credit_limit_vals(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_credit_profile_write_access(vals)
        self._check_credit_profile_move(vals)
        for partner in self:
            company = partner._credit_commercial_partner_after(vals)
            if company != partner:
                partner._check_credit_profile_on_contacts(vals, company)
        self._credit_limit_vals(vals)
        rating_before = {}
        if "credit_rating_id" in vals:
            rating_before = {p.id: p.credit_rating_id for p in self}
        result = super().write(vals)
        if rating_before:
            self._notify_credit_rating_change(rating_before)
        return result

    # === BUSINESS METHODS === #
    def _is_credit_manager(self):
        return self.env.su or self.env.user.has_group("credit_control.credit_control_group_manager")

    def _is_credit_team(self):
        return self.env.su or self.env.user.has_group("credit_control.credit_control_group_user")

    def _credit_field_labels(self, names):
        return ", ".join(sorted(self._fields[name].get_description(self.env)["string"] for name in names))

    def _check_credit_profile_write_access(self, vals):
        if self.env.su or self.env.context.get("credit_profile_write") is CREDIT_PROFILE_WRITE:
            return
        protected = (PROTECTED_CREDIT_FIELDS | COMPUTED_PROFILE_FIELDS).intersection(vals)
        if protected and not self._is_credit_manager():
            raise AccessError(
                _(
                    "Only Credit Managers may change the credit profile of a customer (%(fields)s). "
                    "Ask the credit team, for example with a limit request.",
                    fields=self._credit_field_labels(protected),
                )
            )
        pause = DUNNING_PAUSE_FIELDS.intersection(vals)
        if pause and not self._is_credit_team():
            raise AccessError(
                _(
                    "Only the credit team pauses or resumes the dunning of a customer (%(fields)s).",
                    fields=self._credit_field_labels(pause),
                )
            )

    def _credit_commercial_partner_after(self, vals):
        """The commercial partner this partner will have once ``vals`` is written."""
        self.ensure_one()
        if "parent_id" not in vals and "is_company" not in vals:
            return self.commercial_partner_id
        is_company = vals["is_company"] if "is_company" in vals else self.is_company
        parent = self.browse(vals["parent_id"]) if "parent_id" in vals else self.parent_id
        if is_company or not parent:
            return self
        return parent.commercial_partner_id

    def _check_credit_profile_on_contacts(self, vals, company):
        """A limit, hold, rating or dunning pause given to a contact (a partner whose commercial
        partner is ``company``) would be stored there and ignored: refuse it, whoever writes.
        Empty values (clearing an old profile) pass."""
        given = [name for name in CREDIT_PROFILE_FIELDS.intersection(vals) if vals[name]]
        if given:
            raise UserError(
                _(
                    "%(contact)s is a contact of %(company)s: its credit profile (%(fields)s) is "
                    "kept on %(company)s. Change it there.",
                    contact=self.display_name or vals.get("name") or _("The new contact"),
                    company=company.display_name,
                    fields=self._credit_field_labels(given),
                )
            )

    def _check_credit_profile_move(self, vals):
        """Moving a customer that has a credit profile (its own, or its company's) to another
        commercial partner is a Credit Manager's action: a hierarchy change must not take a
        contact out of its company's limit or hold, nor put a limited company under another."""
        if ("parent_id" not in vals and "is_company" not in vals) or self._is_credit_manager():
            return
        moved = self.filtered(lambda p: p._credit_commercial_partner_after(vals) != p.commercial_partner_id)
        if not moved:
            return
        profiled = (moved | moved.commercial_partner_id)._credit_profiled()
        blocked = moved.filtered(lambda p: p in profiled or p.commercial_partner_id in profiled)
        if blocked:
            raise AccessError(
                _(
                    "Only Credit Managers may move %(partners)s to another company: a credit limit, "
                    "hold or rating is attached to it.",
                    partners=", ".join(blocked.mapped("display_name")),
                )
            )

    def _credit_profiled(self):
        """The partners among ``self`` with an own limit, a hold or a rating in any company."""
        if not self.ids:
            return self.browse()
        self.flush_model(list(CREDIT_PROFILE_MARKERS))
        rows = self.env.execute_query(
            SQL(
                """
            SELECT id
              FROM res_partner
             WHERE id IN %(ids)s
               AND (jsonb_path_exists(COALESCE(credit_limit_set, '{}'), '$.* ? (@ == true)')
                    OR jsonb_path_exists(COALESCE(credit_hold, '{}'), '$.* ? (@ == true)')
                    OR jsonb_path_exists(COALESCE(credit_rating_id, '{}'), '$.* ? (@ != null)'))
                """,
                ids=tuple(self.ids),
            )
        )
        return self.browse(row[0] for row in rows)

    def _credit_limit_vals(self, vals):
        """One limit, Odoo's: keep the module's flag ``credit_limit_set`` in step with Odoo's
        fields in ``vals`` (changed in place). ``use_partner_credit_limit`` on or off decides;
        a ``credit_limit`` written alone (form, import, RPC) is an own limit, in force at once;
        off sets ``credit_limit`` back to the company default, as core's inverse does.
        ``credit_limit_set`` written alone is taken as ``use_partner_credit_limit``."""
        if "use_partner_credit_limit" in vals:
            own = bool(vals.pop("use_partner_credit_limit"))
        elif "credit_limit_set" in vals:
            own = bool(vals["credit_limit_set"])
        elif "credit_limit" in vals:
            own = True
        else:
            return vals
        vals["credit_limit_set"] = own
        if not own:
            vals["credit_limit"] = self._fields["credit_limit"].get_company_dependent_fallback(self)
        return vals

    @api.model
    def _credit_adopt_core_limits(self):
        """Install / upgrade: every customer whose own limit was in force in core Odoo (the
        per-company value of ``credit_limit`` differs from the company default and is above 0,
        i.e. core's ``use_partner_credit_limit`` with a limit core enforces) keeps it, now
        enforced by the module (``credit_limit_set``). Runs for all companies in one query per
        company, posts the count on each company's partner and returns {company id: count}."""
        counts = {}
        # sudo: runs from the install hook; every company's customers are adopted
        Partner = self.sudo().with_context(active_test=False)
        Partner.flush_model(["credit_limit", "credit_limit_set"])
        for company in self.env["res.company"].sudo().search([]):
            partners = Partner.with_company(company)
            fallback = partners._fields["credit_limit"].get_company_dependent_fallback(partners)
            key = str(company.id)
            rows = self.env.execute_query(
                SQL(
                    """
                SELECT id
                  FROM res_partner
                 WHERE credit_limit ? %(key)s
                   AND (credit_limit->>%(key)s)::float8 > 0
                   AND (credit_limit->>%(key)s)::float8 <> %(fallback)s
                   AND NOT COALESCE((credit_limit_set->>%(key)s)::boolean, FALSE)
                   AND (parent_id IS NULL OR is_company)
                    """,
                    key=key,
                    fallback=fallback or 0.0,
                )
            )
            adopted = partners.browse(row[0] for row in rows)
            if adopted:
                adopted.with_context(credit_profile_write=CREDIT_PROFILE_WRITE, tracking_disable=True).write(
                    {"credit_limit_set": True}
                )
                adopted.invalidate_recordset(["credit_limit"])
            counts[company.id] = len(adopted)
            company.partner_id.sudo().message_post(
                body=_(
                    "Credit control adopted the credit limits set in Odoo: %(count)s customers of "
                    "%(company)s keep their own credit limit, now enforced on orders.",
                    count=len(adopted),
                    company=company.name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        return counts

    def _notify_credit_rating_change(self, rating_before):
        """Tell the salesperson and the credit manager that a rating changed."""
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for partner in self:
            old, new = rating_before.get(partner.id), partner.credit_rating_id
            if old == new or partner.commercial_partner_id != partner:
                continue
            summary = _(
                "Credit rating changed: %(old)s → %(new)s",
                old=old.display_name if old else _("none"),
                new=new.display_name if new else _("none"),
            )
            users = (partner.user_id | partner.credit_manager_id).filtered(lambda u: u.active and not u.share)
            if old and new and new.score_min < old.score_min:
                # a downgrade is a case for the credit team (credit.task, issue #7); the
                # salesperson keeps the notice below
                self.env["credit.task"]._create_auto(
                    "review",
                    "rating_downgrade",
                    partner,
                    summary,
                    company=self.env.company,
                    team="credit",
                    date_deadline=fields.Date.context_today(self),
                    priority="1",
                )
                users -= partner.credit_manager_id
            for user in users:
                partner.sudo().activity_schedule(
                    activity_type_id=activity_type.id if activity_type else False,
                    summary=summary,
                    user_id=user.id,
                )

    def _credit_review_lead_days(self):
        return self.env.company.credit_review_lead_days or 30

    def _get_credit_exposure(self, exclude_orders=None, exclude_moves=None):
        """Exposure of this customer (its commercial partner and all contacts) in the current
        company, in company currency. See :meth:`_get_credit_exposures` for the keys."""
        self.ensure_one()
        return self._get_credit_exposures(exclude_orders=exclude_orders, exclude_moves=exclude_moves)[
            self.commercial_partner_id.id
        ]

    def _get_credit_exposures(self, exclude_orders=None, exclude_moves=None):
        """Exposure per commercial partner id of ``self``, in the current company's currency.

        Set-based: three aggregate queries (posted receivables, draft invoices, uninvoiced sale
        orders) plus one currency-rate query, whatever the number of partners or open items.
        Foreign-currency amounts are converted at today's rate. Keys: ``receivable`` (open
        posted items; credit notes and unreconciled payments reduce it), ``overdue`` (past-due
        open debit items), ``overdue_days`` (age of the oldest overdue item), ``draft_invoices``,
        ``uninvoiced_orders`` (taxes included), ``total``, ``limit`` (None = no limit),
        ``available`` (None = unlimited), ``usage`` (percent of the limit), ``over_limit``.
        """
        company = self.env.company
        currency = company.currency_id
        today = fields.Date.context_today(self)
        commercial = self.commercial_partner_id
        partner_ids = tuple(commercial.ids) or (0,)
        exclude_order_ids = tuple(exclude_orders.ids) if exclude_orders else (0,)
        exclude_move_ids = tuple(exclude_moves.ids) if exclude_moves else (0,)
        buckets = {}  # (partner_id, key) -> {currency_id: amount}

        def add(partner_id, key, currency_id, amount):
            if amount:
                per_currency = buckets.setdefault((partner_id, key), {})
                per_currency[currency_id] = per_currency.get(currency_id, 0.0) + amount

        self.env["account.move.line"].flush_model(
            [
                "amount_residual",
                "amount_residual_currency",
                "reconciled",
                "date_maturity",
                "parent_state",
                "partner_id",
                "account_id",
                "company_id",
                "currency_id",
                "price_total",
                "display_type",
                "move_id",
            ]
        )
        self.env["account.move"].flush_model(["state", "move_type", "commercial_partner_id", "company_id"])
        self.env["sale.order.line"].flush_model(
            ["qty_invoiced", "product_uom_qty", "price_total", "display_type"]
        )
        self.env["sale.order"].flush_model(["state", "partner_id", "company_id", "currency_id"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])

        # 1. open posted receivables: residual in the line's currency, converted below
        self.env.cr.execute(
            SQL(
                """
            SELECT p.commercial_partner_id,
                   l.currency_id,
                   SUM(CASE WHEN l.currency_id = %(company_currency)s THEN l.amount_residual
                            ELSE l.amount_residual_currency END),
                   SUM(CASE WHEN l.currency_id = %(company_currency)s THEN l.amount_residual
                            ELSE l.amount_residual_currency END)
                       FILTER (WHERE l.date_maturity < %(today)s AND l.amount_residual > 0),
                   MIN(l.date_maturity) FILTER (WHERE l.date_maturity < %(today)s AND l.amount_residual > 0)
              FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE p.commercial_partner_id IN %(partner_ids)s
               AND l.company_id = %(company_id)s
               AND l.parent_state = 'posted'
               AND a.account_type = 'asset_receivable'
               AND NOT l.reconciled
               AND (l.amount_residual <> 0 OR l.amount_residual_currency <> 0)
          GROUP BY p.commercial_partner_id, l.currency_id
            """,
                company_currency=currency.id,
                today=today,
                partner_ids=partner_ids,
                company_id=company.id,
            )
        )
        oldest = {}
        for partner_id, currency_id, residual, overdue, min_due in self.env.cr.fetchall():
            add(partner_id, "receivable", currency_id, residual or 0.0)
            add(partner_id, "overdue", currency_id, overdue or 0.0)
            if min_due and (partner_id not in oldest or min_due < oldest[partner_id]):
                oldest[partner_id] = min_due

        # 2. draft customer invoices (with taxes), whether or not they come from a sale order
        self.env.cr.execute(
            SQL(
                """
            SELECT m.commercial_partner_id,
                   m.currency_id,
                   SUM(CASE WHEN m.move_type = 'out_refund' THEN -l.price_total ELSE l.price_total END)
              FROM account_move m
              JOIN account_move_line l ON l.move_id = m.id
             WHERE m.commercial_partner_id IN %(partner_ids)s
               AND m.company_id = %(company_id)s
               AND m.state = 'draft'
               AND m.move_type IN ('out_invoice', 'out_refund')
               AND m.id NOT IN %(exclude_move_ids)s
               AND l.display_type = 'product'
          GROUP BY m.commercial_partner_id, m.currency_id
            """,
                exclude_move_ids=exclude_move_ids,
                partner_ids=partner_ids,
                company_id=company.id,
            )
        )
        for partner_id, currency_id, amount in self.env.cr.fetchall():
            add(partner_id, "draft_invoices", currency_id, amount or 0.0)

        # 3. confirmed sale orders: the ordered quantity not yet on any invoice (a draft invoice
        #    counts above), valued at the line's total with taxes
        self.env.cr.execute(
            SQL(
                """
            SELECT p.commercial_partner_id,
                   so.currency_id,
                   SUM(sol.price_total * GREATEST(sol.product_uom_qty - sol.qty_invoiced, 0)
                       / sol.product_uom_qty)
              FROM sale_order so
              JOIN sale_order_line sol ON sol.order_id = so.id
              JOIN res_partner p ON p.id = so.partner_id
             WHERE p.commercial_partner_id IN %(partner_ids)s
               AND so.company_id = %(company_id)s
               AND so.state = 'sale'
               AND so.id NOT IN %(exclude_order_ids)s
               AND sol.display_type IS NULL
               AND sol.product_uom_qty > 0
               AND sol.qty_invoiced < sol.product_uom_qty
          GROUP BY p.commercial_partner_id, so.currency_id
            """,
                partner_ids=partner_ids,
                company_id=company.id,
                exclude_order_ids=exclude_order_ids,
            )
        )
        for partner_id, currency_id, amount in self.env.cr.fetchall():
            add(partner_id, "uninvoiced_orders", currency_id, amount or 0.0)

        # convert every currency at today's rate in one query
        currency_ids = {cid for amounts in buckets.values() for cid in amounts} | {currency.id}
        rates = self.env["res.currency"].browse(currency_ids)._get_rates(company, today)
        company_rate = rates.get(currency.id) or 1.0

        digits = currency.decimal_places

        def total_of(partner_id, key):
            amounts = buckets.get((partner_id, key))
            if not amounts:
                return 0.0
            value = sum(amount * company_rate / (rates.get(cid) or 1.0) for cid, amount in amounts.items())
            return float_round(value, precision_digits=digits)

        limits = commercial._credit_limits_in_force()
        result = {}
        for pid in commercial.ids:
            receivable = total_of(pid, "receivable")
            draft_invoices = total_of(pid, "draft_invoices")
            uninvoiced_orders = total_of(pid, "uninvoiced_orders")
            total = float_round(receivable + draft_invoices + uninvoiced_orders, precision_digits=digits)
            limit = limits[pid]
            exposure = {
                "currency": currency,
                "receivable": receivable,
                "overdue": total_of(pid, "overdue"),
                "overdue_days": (today - oldest[pid]).days if pid in oldest else 0,
                "draft_invoices": draft_invoices,
                "uninvoiced_orders": uninvoiced_orders,
                "total": total,
                "limit": limit,
                "available": None,
                "usage": None,
                "over_limit": False,
            }
            if limit is not None:
                exposure["available"] = float_round(limit - total, precision_digits=digits)
                exposure["usage"] = 100.0 * total / limit if limit else (100.0 if total > 0 else 0.0)
                exposure["over_limit"] = float_round(total - limit, precision_digits=digits) > 0
            result[pid] = exposure
        return result

    def _credit_limits_in_force(self):
        """The credit limit in force per commercial partner id of ``self`` in the current company
        (None = no limit), the way core Odoo decides it: the customer's own limit when it has one
        (``use_partner_credit_limit``, mirrored in ``credit_limit_set``; 0 = prepayment only),
        else the company's default limit (``account_default_credit_limit``) when it is above 0.
        Read straight from the per-company columns of the commercial partners (one query):
        salespeople may use it without the accounting groups."""
        commercial = self.commercial_partner_id
        if not commercial:
            return {}
        company = self.env.company
        limit_fallback = self._fields["credit_limit"].get_company_dependent_fallback(self)
        self.env["res.partner"].flush_model(["credit_limit", "credit_limit_set"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT id, (credit_limit->>%(company)s)::float8, (credit_limit_set->>%(company)s)::boolean
              FROM res_partner
             WHERE id IN %(partner_ids)s
                """,
                company=str(company.id),
                partner_ids=tuple(commercial.ids),
            )
        )
        limits = {}
        for pid, limit, limit_set in rows:
            if limit_set:
                limits[pid] = limit_fallback if limit is None else limit
            else:
                limits[pid] = limit_fallback or None
        return limits

    def _credit_rule_failures(self, exposure, amount, payment_term, is_prepaid=None):
        """The credit rules a new document of ``amount`` (company currency) breaks for this
        customer in the current company: a list of ``{"rule", "message"}``, empty when it may
        go through. ``exposure`` is :meth:`_get_credit_exposure` without the document itself;
        ``is_prepaid`` (a callable, asked only when the limit would be exceeded) tells whether
        the document is paid in advance."""
        self.ensure_one()
        company = self.env.company
        currency = company.currency_id
        partner = self.commercial_partner_id
        profile = partner.sudo()
        rating = profile.credit_rating_id
        failures = []

        def fmt(value):
            return format_amount(self.env, value, currency)

        if profile.credit_hold:
            failures.append(
                {
                    "rule": "hold",
                    "message": _(
                        "%(customer)s is on credit hold: %(reason)s",
                        customer=partner.display_name,
                        reason=profile.credit_hold_reason or "",
                    ),
                }
            )
        limit = exposure["limit"]
        if limit is None and company.credit_no_limit_policy == "no_credit":
            limit = 0.0
        if limit is not None:
            counted = exposure["receivable"]
            if company.credit_count_draft_invoices:
                counted += exposure["draft_invoices"]
            if company.credit_count_uninvoiced_orders:
                counted += exposure["uninvoiced_orders"]
            allowed = limit * (1 + (company.credit_limit_tolerance or 0.0) / 100.0)
            # paid in advance (checked last: reading the payments costs queries)
            if currency.compare_amounts(counted + amount, allowed) > 0 and not (is_prepaid and is_prepaid()):
                failures.append(
                    {
                        "rule": "limit",
                        "message": _(
                            "Exposure %(exposure)s plus this document %(amount)s = %(total)s exceeds "
                            "the credit limit of %(limit)s (available: %(available)s).",
                            exposure=fmt(counted),
                            amount=fmt(amount),
                            total=fmt(counted + amount),
                            limit=fmt(limit),
                            available=fmt(limit - counted),
                        ),
                    }
                )
        check_overdue = True
        if rating:
            tolerance_days, tolerance_amount = rating.overdue_tolerance_days, rating.overdue_tolerance_amount
        else:
            tolerance_days = company.credit_overdue_tolerance_days
            tolerance_amount = company.credit_overdue_tolerance_amount or None
            check_overdue = bool(tolerance_days or tolerance_amount)
        if (
            check_overdue
            and exposure["overdue"] > 0
            and (
                exposure["overdue_days"] > tolerance_days
                or (
                    tolerance_amount is not None
                    and currency.compare_amounts(exposure["overdue"], tolerance_amount) > 0
                )
            )
        ):
            failures.append(
                {
                    "rule": "overdue",
                    "message": _(
                        "Overdue items of %(amount)s, the oldest %(days)s days overdue, are beyond "
                        "the tolerance of %(tol_days)s days / %(tol_amount)s.",
                        amount=fmt(exposure["overdue"]),
                        days=exposure["overdue_days"],
                        tol_days=tolerance_days,
                        tol_amount=fmt(tolerance_amount) if tolerance_amount is not None else _("any amount"),
                    ),
                }
            )
        if rating.payment_term_id and payment_term != rating.payment_term_id:
            failures.append(
                {
                    "rule": "payment_term",
                    "message": _(
                        "Rating %(rating)s requires the payment term %(term)s.",
                        rating=rating.display_name,
                        term=rating.payment_term_id.display_name,
                    ),
                }
            )
        if (
            company.credit_new_customer_check
            and currency.compare_amounts(amount, company.credit_new_customer_amount) > 0
            and not partner._credit_has_done_check()
        ):
            failures.append(
                {
                    "rule": "new_customer",
                    "message": _(
                        "Orders above %(amount)s for a customer without a completed credit check "
                        "need a check first.",
                        amount=fmt(company.credit_new_customer_amount),
                    ),
                }
            )
        if partner._credit_dunning_blocks_orders():
            failures.append(
                {
                    "rule": "dunning",
                    "message": _("The customer has invoices at a dunning level that blocks new orders."),
                }
            )
        return failures

    # --- payment behaviour --- #
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

    def action_refresh_credit_profile(self):
        """Button: refresh payment behaviour and the scorecard rating now."""
        self.commercial_partner_id._refresh_payment_behaviour()
        self.commercial_partner_id._refresh_credit_rating()
        return True

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

    # --- scorecard and rating --- #
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
                "behaviour": (_linear_points(days_late, 0, 60), _("%(days).1f days", days=days_late)),
                "overdue": (_linear_points(overdue_share, 0, 50), "%.0f %%" % overdue_share),
                "usage": (
                    50.0 if usage is None else _linear_points(usage, 50, 120),
                    _("no limit") if usage is None else "%.0f %%" % usage,
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

    def _credit_has_done_check(self):
        """Whether a completed credit check exists for this customer in the current company."""
        if "credit.check" not in self.env:
            return False
        return bool(
            self.env["credit.check"]
            .sudo()
            .search_count(
                [
                    ("partner_id", "=", self.commercial_partner_id.id),
                    ("state", "in", ("done", "expired")),
                    ("company_id", "=", self.env.company.id),
                ],
                limit=1,
            )
        )

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

    # === ACTIONS === #
    def action_view_credit_checks(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_check_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def action_open_credit_profile_update(self):
        """Credit Manager: change limit, hold or rating with a reason for the chatter."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Change Credit Profile"),
            "res_model": "credit.profile.update",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_request_credit_limit(self):
        """Sales: ask the credit team for a new limit on this customer."""
        self.ensure_one()
        return self.env["credit.limit.request"].action_new_for_partner(self)

    def action_view_credit_decisions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_decision_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def action_view_credit_exposure_items(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_moves_all_a")
        action["domain"] = [
            ("partner_id", "child_of", self.commercial_partner_id.id),
            ("company_id", "=", self.env.company.id),
            ("parent_state", "=", "posted"),
            ("account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
        ]
        action["context"] = {"search_default_group_by_move": 0}
        return action

    # === DUNNING === #
    @api.depends_context("company")
    def _compute_credit_dunning_level_id(self):
        levels = self.commercial_partner_id._get_credit_dunning_levels()
        for partner in self:
            partner.credit_dunning_level_id = levels.get(partner.commercial_partner_id.id, False)

    def _get_credit_dunning_levels(self):
        """Highest dunning level of the open invoices per commercial partner id (one query)."""
        # sudo: salespeople see the dunning level without reading the invoices
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "posted"),
                    ("move_type", "=", "out_invoice"),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("credit_dunning_level_id", "!=", False),
                ],
                groupby=["commercial_partner_id", "credit_dunning_level_id"],
            )
        )
        highest = {}
        for partner, level in groups:
            current = highest.get(partner.id)
            if not current or (level.sequence, level.days, level.id) > (
                current.sequence,
                current.days,
                current.id,
            ):
                highest[partner.id] = level
        return {partner_id: level.with_env(self.env) for partner_id, level in highest.items()}

    def _credit_dunning_blocks_orders(self):
        """Whether an open invoice of this customer is at a dunning level that blocks new orders
        (called by the sales credit check on every confirmation: one indexed query, driven by
        the few invoices that carry a blocking level)."""
        self.ensure_one()
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
        self.env["credit.dunning.level"].flush_model(["block_orders"])
        self.env.cr.execute(
            SQL(
                """
            SELECT 1
              FROM account_move m
             WHERE m.credit_dunning_level_id = ANY(
                       ARRAY(SELECT id FROM credit_dunning_level WHERE block_orders))
               AND m.commercial_partner_id = %(partner_id)s
               AND m.company_id = %(company_id)s
               AND m.state = 'posted'
               AND m.move_type = 'out_invoice'
               AND m.payment_state IN ('not_paid', 'partial')
             LIMIT 1
                """,
                partner_id=self.commercial_partner_id.id,
                company_id=self.env.company.id,
            )
        )
        return bool(self.env.cr.fetchone())

    def _refresh_credit_dunning_count(self):
        """Store the number of validated dunning letters per customer in the current company."""
        counts = dict(
            self.env["credit.dunning.letter"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "done"),
                ],
                groupby=["partner_id"],
                aggregates=["__count"],
            )
        )
        # sudo: collectors validate dunning runs without the right to edit customers
        for partner in self.commercial_partner_id.sudo().with_context(tracking_disable=True):
            partner.credit_dunning_count = counts.get(partner, 0)

    def _check_credit_dunning_pause_rights(self):
        """Dunning pauses and resumes are the credit team's decision (collectors, managers)."""
        if not self._is_credit_team():
            raise AccessError(_("Only the credit team pauses or resumes dunning."))

    def _credit_dunning_pause(self, reason, date_until=False):
        """Pause (with an end date) or exclude (without) these customers from dunning, logged."""
        self._check_credit_dunning_pause_rights()
        # sudo: collectors pause dunning without the right to edit customers
        customers = self.commercial_partner_id.sudo()
        customers.write(
            {
                "credit_dunning_pause": True,
                "credit_dunning_pause_reason": reason,
                "credit_dunning_pause_until": date_until,
            }
        )
        for partner in customers:
            partner.message_post(
                body=_(
                    "Dunning paused until %(date)s by %(user)s: %(reason)s",
                    date=date_until or _("further notice"),
                    user=self.env.user.name,
                    reason=reason,
                )
            )

    def _credit_dunning_resume(self):
        self._check_credit_dunning_pause_rights()
        # sudo: collectors resume dunning without the right to edit customers
        customers = self.commercial_partner_id.sudo().filtered("credit_dunning_pause")
        customers.write(
            {
                "credit_dunning_pause": False,
                "credit_dunning_pause_reason": False,
                "credit_dunning_pause_until": False,
            }
        )
        for partner in customers:
            partner.message_post(body=_("Dunning resumed by %(user)s.", user=self.env.user.name))

    @api.model
    def _credit_dunning_resume_expired(self, date):
        """Resume the dunning of customers and invoices whose pause ended (logged)."""
        self.search(
            [("credit_dunning_pause", "=", True), ("credit_dunning_pause_until", "<=", date)]
        )._credit_dunning_resume()
        self.env["account.move"].search(
            [
                ("company_id", "=", self.env.company.id),
                ("credit_dunning_pause", "=", True),
                ("credit_dunning_pause_until", "<=", date),
            ]
        )._credit_dunning_resume()

    def action_credit_dunning_send_now(self):
        """Propose a dunning run for these customers today, over all levels, and open it."""
        run = self.env["credit.dunning.run"]._create_runs(
            self.env.company, fields.Date.context_today(self), partners=self.commercial_partner_id
        )
        if not run:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {"message": _("Nothing to dun for these customers today."), "type": "warning"},
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": "credit.dunning.run",
            "res_id": run.id,
            "view_mode": "form",
        }

    def action_credit_dunning_pause(self):
        self._check_credit_dunning_pause_rights()
        return {
            "type": "ir.actions.act_window",
            "name": _("Pause Dunning"),
            "res_model": "credit.dunning.pause",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_ids": self.commercial_partner_id.ids},
        }

    def action_credit_dunning_resume(self):
        self._credit_dunning_resume()
        return True

    # === FIELDS: collaboration tasks and escalation (credit_collab) === #
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

    def action_view_credit_tasks(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_task_action_partner")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {
            "default_partner_id": self.commercial_partner_id.id,
            "search_default_open": 1,
        }
        return action

    # === COLLECTIONS: promises to pay, disputes, payment plans === #
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

    @api.depends_context("company")
    def _compute_credit_promise_stats(self):
        stats = self._get_credit_promise_stats()
        for partner in self:
            kept, broken = stats.get(partner.commercial_partner_id.id, (0, 0))
            partner.credit_promise_kept_count = kept
            partner.credit_promise_broken_count = broken
            partner.credit_promise_kept_rate = 100.0 * kept / (kept + broken) if kept + broken else 0.0

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
