from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..lib.protected_fields import drop_protected_defaults
from .credit_dunning_pause_mixin import DUNNING_PAUSE_FIELDS

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
        "credit_insurance_policy_id",
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

# Figures only the refresh writes (they feed the scorecard and with it the rating).
COMPUTED_PROFILE_FIELDS = frozenset({*BEHAVIOUR_FIELDS, "credit_dunning_count", "credit_behaviour_date"})

# The credit profile: kept on the commercial partner only, never copied to or from contacts.
CREDIT_PROFILE_FIELDS = PROTECTED_CREDIT_FIELDS | DUNNING_PAUSE_FIELDS | COMPUTED_PROFILE_FIELDS

# Having one of these (in any company) makes a partner a customer with a credit profile: moving
# it in the partner hierarchy is a Credit Manager's action.
CREDIT_PROFILE_MARKERS = ("credit_limit_set", "credit_hold", "credit_rating_id")


CREDIT_READ_GROUPS = (
    "sales_team.group_sale_salesman,account.group_account_invoice,"
    "account.group_account_readonly,credit_control.credit_control_group_user"
)


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
    credit_review_due = fields.Boolean(
        string="Review Due",
        compute="_compute_credit_review_due",
        search="_search_credit_review_due",
        groups=CREDIT_READ_GROUPS,
    )
    credit_check_ids = fields.One2many("credit.check", "partner_id", string="Credit Checks")
    credit_check_count = fields.Integer(
        string="Number of Credit Checks", compute="_compute_credit_check_count", groups=CREDIT_READ_GROUPS
    )
    credit_decision_count = fields.Integer(
        string="Credit Decisions", compute="_compute_credit_decision_count", groups=CREDIT_READ_GROUPS
    )

    # === COMPUTE === #
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

    def _credit_review_lead_days(self):
        return self.env.company.credit_review_lead_days

    def _credit_has_done_check(self):
        """Whether a completed credit check exists for this customer in the current company."""
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
