from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_amount, format_date

from ..lib.protected_fields import drop_protected_defaults
from .res_partner import CREDIT_PROFILE_WRITE

# Server-side sentinel: only the decision methods of this model (approval, expiry, cancel) may
# write the decision fields. RPC callers cannot forge this object.
CREDIT_CHECK_DECISION = object()

# Written by the decision methods only, never through a plain write.
DECISION_FIELDS = frozenset({"state", "decided_by_id", "decision_date"})

# Computed from the provider score (or the rating) only: never given by hand.
COMPUTED_SCORE_FIELDS = frozenset({"score_normalized"})

# Chatter bookkeeping that anyone with access may update on a decided check.
THREAD_FIELDS = frozenset({"message_main_attachment_id", "activity_ids", "message_follower_ids"})

# Kinds of check that come with a score by default.
SCORED_KINDS = ("internal", "bureau", "insurer")


class CreditCheck(models.Model):
    _name = "credit.check"
    _description = "Credit Check"
    _inherit = ["mail.thread.main.attachment", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default=lambda self: _("New")
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        help="The commercial entity of the customer: contacts are replaced by their company.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    kind = fields.Selection(
        [
            ("internal", "Internal Assessment"),
            ("bureau", "Credit Bureau"),
            ("insurer", "Credit Insurer"),
            ("bank", "Bank Reference"),
            ("trade", "Trade References"),
        ],
        required=True,
        default="bureau",
        tracking=True,
    )
    provider_name = fields.Char(string="Provider", help="E.g. Creditreform, SCHUFA, Allianz Trade, the bank.")
    provider_ref = fields.Char(string="Provider Reference", help="Report or enquiry number of the provider.")

    # score
    has_score = fields.Boolean(
        string="Scored",
        default=True,
        help="The provider gave a score. Bank and trade references usually do not: then choose the "
        "rating by hand.",
    )
    provider_score = fields.Float(digits=(16, 2))
    score_scale_min = fields.Float(string="Scale From", default=0.0, digits=(16, 2))
    score_scale_max = fields.Float(string="Scale To", default=100.0, digits=(16, 2))
    score_lower_is_better = fields.Boolean(
        string="Lower Is Better",
        help="On for indices where a low value means a low risk, e.g. the Creditreform index "
        "(100 = excellent, 600 = default).",
    )
    score_normalized = fields.Integer(
        string="Score (0-100)",
        compute="_compute_score_normalized",
        store=True,
        help="The provider score on the module's scale: 0 = highest risk, 100 = lowest risk. "
        "Without a provider score, the middle of the chosen rating's range.",
    )
    rating_id = fields.Many2one(
        "credit.rating",
        string="Risk Rating",
        compute="_compute_rating_id",
        store=True,
        readonly=False,
        tracking=True,
        check_company=True,
        help="Proposed from the score and the rating classes of the company; may be changed.",
    )
    recommended_limit = fields.Monetary(
        currency_field="currency_id", help="Limit recommended by the provider."
    )

    # decision
    has_approved_limit = fields.Boolean(
        string="Set Credit Limit",
        compute="_compute_has_approved_limit",
        store=True,
        readonly=False,
        help="The approved limit becomes the customer's credit limit (0 = prepayment only).",
    )
    approved_limit = fields.Monetary(currency_field="currency_id", tracking=True)
    decided_by_id = fields.Many2one(
        "res.users", string="Decided By", readonly=True, copy=False, tracking=True
    )
    decision_date = fields.Date(readonly=True, copy=False)
    date_end = fields.Date(
        string="Valid Until", tracking=True, help="The check expires after this day and should be renewed."
    )
    note = fields.Html(string="Notes")
    state = fields.Selection(
        [("draft", "Draft"), ("done", "Done"), ("expired", "Expired"), ("cancel", "Cancelled")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
    )

    # === COMPUTE === #
    @api.depends(
        "has_score",
        "provider_score",
        "score_scale_min",
        "score_scale_max",
        "score_lower_is_better",
        "rating_id.score_min",
        "rating_id.score_max",
    )
    def _compute_score_normalized(self):
        for check in self:
            if check.has_score:
                check.score_normalized = check._normalize_score()
            elif check.rating_id:
                check.score_normalized = (check.rating_id.score_min + check.rating_id.score_max) // 2
            else:
                check.score_normalized = 0

    @api.depends(
        "has_score",
        "provider_score",
        "score_scale_min",
        "score_scale_max",
        "score_lower_is_better",
        "company_id",
    )
    def _compute_rating_id(self):
        ratings = self.env["credit.rating"]
        for check in self:
            if check.has_score and check.score_scale_max > check.score_scale_min:
                check.rating_id = ratings._for_score(check._normalize_score(), company=check.company_id)
            else:
                check.rating_id = check.rating_id

    @api.depends("approved_limit")
    def _compute_has_approved_limit(self):
        for check in self:
            check.has_approved_limit = check.has_approved_limit or bool(check.approved_limit)

    # === CONSTRAINTS === #
    @api.constrains("has_score", "provider_score", "score_scale_min", "score_scale_max")
    def _check_score(self):
        for check in self.filtered("has_score"):
            if check.score_scale_min >= check.score_scale_max:
                raise ValidationError(
                    _(
                        "The score scale of credit check %(check)s must start below its end.",
                        check=check.display_name,
                    )
                )
            if not check.score_scale_min <= check.provider_score <= check.score_scale_max:
                raise ValidationError(
                    _(
                        "The score %(score)s of credit check %(check)s lies outside its scale "
                        "%(min)s to %(max)s.",
                        score=check.provider_score,
                        check=check.display_name,
                        min=check.score_scale_min,
                        max=check.score_scale_max,
                    )
                )

    @api.constrains("date", "date_end")
    def _check_date_end(self):
        for check in self:
            if check.date_end and check.date and check.date_end <= check.date:
                raise ValidationError(
                    _(
                        "Credit check %(check)s must be valid until a day after its date %(date)s.",
                        check=check.display_name,
                        date=format_date(self.env, check.date),
                    )
                )

    @api.constrains("approved_limit", "recommended_limit")
    def _check_limits(self):
        for check in self:
            if check.approved_limit < 0 or check.recommended_limit < 0:
                raise ValidationError(
                    _("The limits of credit check %(check)s cannot be negative.", check=check.display_name)
                )

    # === ONCHANGE === #
    @api.onchange("kind")
    def _onchange_kind(self):
        self.has_score = self.kind in SCORED_KINDS

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        # a default_* context key (or a personal default) never pre-decides a check
        values = super().default_get(fields_list)
        return drop_protected_defaults(self, values, DECISION_FIELDS | COMPUTED_SCORE_FIELDS, False)

    @api.model_create_multi
    def create(self, vals_list):
        partners = self.env["res.partner"]
        for vals in vals_list:
            self._check_decision_write(vals)
            self._check_score_write(vals)
            if vals.get("partner_id"):
                vals["partner_id"] = partners.browse(vals["partner_id"]).commercial_partner_id.id
            if "has_score" not in vals:
                vals["has_score"] = vals.get("kind", self._fields["kind"].default(self)) in SCORED_KINDS
            if vals.get("name", _("New")) == _("New"):
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = self.env["ir.sequence"].with_company(company).next_by_code(
                    "credit.check"
                ) or _("New")
        return super().create(vals_list)

    def write(self, vals):
        self._check_decision_write(vals)
        self._check_score_write(vals)
        if (
            self.env.context.get("credit_check_decision") is not CREDIT_CHECK_DECISION
            and not set(vals) <= THREAD_FIELDS
        ):
            decided = self.filtered(lambda check: check.state != "draft")
            if decided and not self._is_credit_manager():
                raise AccessError(
                    _(
                        "Only Credit Managers may change a credit check that is no longer a draft "
                        "(%(checks)s).",
                        checks=", ".join(decided.mapped("display_name")),
                    )
                )
        if vals.get("partner_id"):
            vals["partner_id"] = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_decided(self):
        decided = self.filtered(lambda check: check.state in ("done", "expired"))
        if decided:
            raise UserError(
                _(
                    "Credit checks that were decided document a credit decision and cannot be "
                    "deleted: %(checks)s. Cancel them instead.",
                    checks=", ".join(decided.mapped("display_name")),
                )
            )

    # === ACTIONS === #
    def action_done(self):
        """Approve the checks (Credit Managers only) and apply the latest one to the customer."""
        self._check_credit_manager()
        if any(check.state != "draft" for check in self):
            raise UserError(_("Only draft credit checks can be approved."))
        today = fields.Date.context_today(self)
        for check in self:
            if not check.has_score and not check.rating_id:
                raise UserError(
                    _(
                        "Credit check %(check)s has no score: choose the risk rating it results in.",
                        check=check.display_name,
                    )
                )
            if check.date_end and check.date_end < today:
                raise UserError(
                    _(
                        "Credit check %(check)s expired on %(date)s: set a later end of validity.",
                        check=check.display_name,
                        date=format_date(self.env, check.date_end),
                    )
                )
        self._write_decision({"state": "done", "decided_by_id": self.env.uid, "decision_date": today})
        self._apply_latest_to_partners()
        return True

    def action_cancel(self):
        """Cancel draft checks (credit team) or withdraw decided ones (Credit Managers). A customer's
        profile set by a withdrawn check stays as it is until changed."""
        if any(check.state != "draft" for check in self):
            self._check_credit_manager()
        self._write_decision({"state": "cancel"})
        return True

    def action_draft(self):
        if any(check.state != "cancel" for check in self):
            raise UserError(_("Only cancelled credit checks can be reset to draft."))
        self._write_decision({"state": "draft", "decided_by_id": False, "decision_date": False})
        return True

    # === BUSINESS METHODS === #
    @api.model
    def _latest_valid_check(self, partner, company=None):
        """The latest done credit check of ``partner`` in ``company`` that has not expired."""
        company = company or self.env.company
        today = fields.Date.context_today(self)
        return self.search(
            [
                ("partner_id", "=", partner.commercial_partner_id.id),
                ("company_id", "=", company.id),
                ("state", "=", "done"),
                "|",
                ("date_end", "=", False),
                ("date_end", ">=", today),
            ],
            limit=1,
        )

    def _apply_latest_to_partners(self):
        """Let each customer's latest valid check (if among ``self``) set its rating and limit."""
        for partner, company in {(check.partner_id, check.company_id) for check in self}:
            latest = self._latest_valid_check(partner, company)
            if latest in self:
                latest._apply_to_partner()

    def _apply_to_partner(self):
        self.ensure_one()
        partner = self.partner_id.with_company(self.company_id)
        vals = {
            "credit_score": self.score_normalized,
            "credit_rating_source": "check",
            "credit_rating_date": self.decision_date or self.date,
        }
        changes = [_("score %(score)s", score=self.score_normalized)]
        if self.rating_id:
            vals["credit_rating_id"] = self.rating_id.id
            changes.insert(0, _("rating %(rating)s", rating=self.rating_id.display_name))
        if self.has_approved_limit:
            vals.update(
                credit_limit=self.approved_limit, credit_limit_set=True, credit_limit_date_end=self.date_end
            )
            limit = format_amount(self.env, self.approved_limit, self.currency_id)
            changes.append(
                _(
                    "credit limit %(limit)s valid until %(date)s",
                    limit=limit,
                    date=format_date(self.env, self.date_end),
                )
                if self.date_end
                else _("credit limit %(limit)s", limit=limit)
            )
        # the caller verified that the user is a Credit Manager
        partner.with_context(credit_profile_write=CREDIT_PROFILE_WRITE).write(vals)
        origin = dict(self._fields["kind"]._description_selection(self.env))[self.kind]
        if self.provider_name:
            origin = _("%(kind)s, %(provider)s", kind=origin, provider=self.provider_name)
        partner.message_post(
            body=_(
                "Credit check %(check)s (%(origin)s) set the %(changes)s.",
                check=self.name,
                origin=origin,
                changes=", ".join(changes),
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _action_expire(self):
        self._write_decision({"state": "expired"})

    def _write_decision(self, vals):
        return self.with_context(credit_check_decision=CREDIT_CHECK_DECISION).write(vals)

    def _check_decision_write(self, vals):
        if not DECISION_FIELDS.intersection(vals) or self.env.su:
            return
        if self.env.context.get("credit_check_decision") is CREDIT_CHECK_DECISION:
            return
        if (
            vals.get("state", "draft") == "draft"
            and not vals.get("decided_by_id")
            and not vals.get("decision_date")
        ):
            return
        raise AccessError(_("Credit checks are approved, cancelled and expired only through their buttons."))

    def _check_score_write(self, vals):
        if COMPUTED_SCORE_FIELDS.intersection(vals) and not self.env.su:
            raise AccessError(
                _(
                    "The score of a credit check is computed from the provider's score (or the "
                    "chosen rating); it cannot be entered directly."
                )
            )

    def _is_credit_manager(self):
        return self.env.su or self.env.user.has_group("credit_control.credit_control_group_manager")

    def _check_credit_manager(self):
        if not self._is_credit_manager():
            raise AccessError(_("Only Credit Managers may approve or withdraw credit checks."))

    def _normalize_score(self):
        """The provider score on a 0-100 scale, 100 = lowest risk."""
        self.ensure_one()
        span = self.score_scale_max - self.score_scale_min
        if span <= 0:
            return 0
        ratio = (self.provider_score - self.score_scale_min) / span
        if self.score_lower_is_better:
            ratio = 1.0 - ratio
        return int(round(max(0.0, min(1.0, ratio)) * 100))
