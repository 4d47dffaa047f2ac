from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare, float_is_zero, format_amount, format_date

from .credit_collection_document_mixin import (
    check_workflow_vals,
    prepare_collection_vals,
    workflow_defaults,
    workflow_write,
)

# §692(1) Nr. 3 ZPO: the respondent may object within two weeks of service; §699(1) S. 2 ZPO:
# the enforcement order is applied for after that period; §701 ZPO: the order for payment lapses
# when the enforcement order is not applied for within six months of service.
OBJECTION_DAYS = 14
ENFORCEMENT_MONTHS = 6

LEGAL_STATES = [
    ("draft", "Draft"),
    ("prepared", "Prepared"),
    ("applied", "Applied"),
    ("order_issued", "Order for Payment Issued"),
    ("served", "Served"),
    ("objection", "Objection"),
    ("enforcement_applied", "Enforcement Order Applied"),
    ("enforcement_issued", "Enforcement Order Issued"),
    ("enforcement", "Bailiff Instructed"),
    ("paid", "Paid"),
    ("partly_paid", "Partly Paid"),
    ("uncollectable", "Uncollectable"),
    ("cancel", "Cancelled"),
]
CLOSED_STATES = ("paid", "partly_paid", "uncollectable", "cancel")
OPEN_STATES = tuple(state for state, _label in LEGAL_STATES if state not in CLOSED_STATES)
# the steps after "prepared" are the Credit Managers'
STEP_DATES = (
    "date_prepared",
    "date_applied",
    "date_order_issued",
    "date_served",
    "date_objection",
    "date_enforcement_applied",
    "date_enforcement_issued",
    "date_enforcement",
    "date_closed",
)
WORKFLOW_FIELDS = frozenset(("state",) + STEP_DATES)


class CreditLegalCase(models.Model):
    """Court dunning case (gerichtliches Mahnverfahren) of one customer in one company: the
    claims (one per invoice) with interest and ancillary items, the application data in the
    order of the official online form, the steps of the procedure with their dates and the
    deadline tasks, and the payments received during the case allocated per §367 BGB."""

    _name = "credit.legal.case"
    _description = "Court Dunning Case"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        help="The respondent (Antragsgegner): the customer's commercial entity.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True
    )
    state = fields.Selection(
        LEGAL_STATES, default="draft", required=True, readonly=True, tracking=True, index=True, copy=False
    )
    lawyer_id = fields.Many2one(
        "res.partner",
        string="Lawyer",
        tracking=True,
        help="Authorised representative (Prozessbevollmächtigter), if any.",
    )
    lawyer_reference = fields.Char(string="Lawyer's Reference")
    our_reference = fields.Char(help="Reference of the applicant (Geschäftszeichen).")
    court_id = fields.Many2one(
        "credit.legal.court",
        string="Dunning Court",
        compute="_compute_court_id",
        store=True,
        readonly=False,
        tracking=True,
        help="Central dunning court of the applicant's federal state.",
    )
    court_file_number = fields.Char(tracking=True)
    no_counter_performance = fields.Boolean(
        string="Claim Does Not Depend on a Counter-performance",
        tracking=True,
        help="Declaration of the application (§690(1) Nr. 4 ZPO): the claim does not depend on a "
        "counter-performance, or it has been rendered.",
    )
    claim_flat_fee = fields.Boolean(
        string="Claim the Flat Fee (§288(5) BGB)",
        default=True,
        help="The flat fee of §288(5) BGB, once per invoice, for business customers, unless a "
        "dunning letter has charged it already.",
    )
    date_opened = fields.Date(
        string="Opened On", required=True, default=fields.Date.context_today, readonly=True
    )
    date_interest = fields.Date(
        string="Interest Until",
        required=True,
        default=fields.Date.context_today,
        help="The interest of the claims is computed up to and including this day.",
    )
    date_prepared = fields.Date(string="Prepared On", readonly=True, copy=False)
    date_applied = fields.Date(string="Applied On", copy=False, tracking=True)
    date_order_issued = fields.Date(string="Order Issued On", copy=False, tracking=True)
    date_served = fields.Date(string="Served On", copy=False, tracking=True)
    date_objection = fields.Date(string="Objection On", copy=False, tracking=True)
    date_enforcement_applied = fields.Date(string="Enforcement Order Applied On", copy=False, tracking=True)
    date_enforcement_issued = fields.Date(string="Enforcement Order Issued On", copy=False, tracking=True)
    date_enforcement = fields.Date(string="Bailiff Instructed On", copy=False, tracking=True)
    date_closed = fields.Date(string="Closed On", readonly=True, copy=False)
    date_objection_end = fields.Date(
        string="Objection Period Ends",
        compute="_compute_deadlines",
        store=True,
        help="Two weeks after service (§692(1) Nr. 3 ZPO).",
    )
    date_enforcement_deadline = fields.Date(
        string="Apply for Enforcement By",
        compute="_compute_deadlines",
        store=True,
        help="Six months after service (§701 ZPO): later the order for payment lapses.",
    )
    claim_ids = fields.One2many("credit.legal.claim", "case_id", string="Claims")
    cost_ids = fields.One2many("credit.legal.cost", "case_id", string="Ancillary Items")
    task_ids = fields.One2many("credit.task", "legal_case_id", string="Tasks")
    note = fields.Text()
    amount_principal = fields.Monetary(string="Principal", compute="_compute_amounts")
    amount_interest = fields.Monetary(string="Interest", compute="_compute_amounts")
    amount_costs = fields.Monetary(string="Costs", compute="_compute_amounts")
    amount_total = fields.Monetary(string="Total Claimed", compute="_compute_amounts")
    amount_paid = fields.Monetary(
        string="Paid During the Case",
        compute="_compute_amounts",
        help="What the claims' invoices received since the case was opened.",
    )
    allocated_costs = fields.Monetary(string="Paid on Costs", compute="_compute_amounts")
    allocated_interest = fields.Monetary(string="Paid on Interest", compute="_compute_amounts")
    allocated_principal = fields.Monetary(string="Paid on Principal", compute="_compute_amounts")
    amount_remaining = fields.Monetary(string="Remaining", compute="_compute_amounts")

    # === COMPUTE === #
    @api.depends("company_id")
    def _compute_court_id(self):
        courts = self.env["credit.legal.court"].search([])
        for case in self:
            state = case.company_id.partner_id.state_id
            case.court_id = (
                courts.filtered(lambda court, s=state: s in court.state_ids)[:1] if state else False
            )

    @api.depends("date_served")
    def _compute_deadlines(self):
        for case in self:
            served = case.date_served
            case.date_objection_end = served and served + relativedelta(days=OBJECTION_DAYS)
            case.date_enforcement_deadline = served and served + relativedelta(months=ENFORCEMENT_MONTHS)

    @api.depends(
        "claim_ids.principal",
        "claim_ids.interest_amount",
        "claim_ids.move_id.amount_residual",
        "cost_ids.amount",
    )
    def _compute_amounts(self):
        for case in self:
            allocation = case._allocate_payments()
            case.amount_principal = allocation["principal"]
            case.amount_interest = allocation["interest"]
            case.amount_costs = allocation["costs"]
            case.amount_total = allocation["principal"] + allocation["interest"] + allocation["costs"]
            case.amount_paid = allocation["paid"]
            case.allocated_costs = allocation["allocated_costs"]
            case.allocated_interest = allocation["allocated_interest"]
            case.allocated_principal = allocation["allocated_principal"]
            case.amount_remaining = case.currency_id.round(case.amount_total - allocation["paid"])

    # === CONSTRAINTS === #
    @api.constrains("partner_id", "lawyer_id")
    def _check_lawyer(self):
        for case in self:
            if (
                case.lawyer_id
                and case.lawyer_id.commercial_partner_id == case.partner_id.commercial_partner_id
            ):
                raise ValidationError(_("The lawyer cannot be the customer itself."))

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        return workflow_defaults(self, super().default_get(fields_list), WORKFLOW_FIELDS)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_workflow_vals(self, vals, WORKFLOW_FIELDS, creating=True)
            prepare_collection_vals(self.env, vals, "credit.legal.case")
        return super().create(vals_list)

    def write(self, vals):
        check_workflow_vals(self, vals, WORKFLOW_FIELDS)
        if {"partner_id", "company_id"}.intersection(vals) and any(case.state != "draft" for case in self):
            raise UserError(_("The customer of a court dunning case cannot change once it is prepared."))
        if (
            {"date_interest", "claim_flat_fee"}.intersection(vals)
            and any(case.state != "draft" for case in self)
            and not self.env.su
            and not self.env.user.has_group("credit_control.credit_control_group_manager")
        ):
            raise UserError(
                _("The claimed amounts of a prepared court dunning case change only by a Credit Manager.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if any(case.state not in ("draft", "cancel") for case in self):
            raise UserError(_("Only draft or cancelled court dunning cases can be deleted."))

    # === ACTIONS === #
    def action_load_invoices(self):
        """Add the customer's overdue open invoices that are in no other open case and with no
        collection agency as claims."""
        for case in self:
            case._check_state("draft")
            today = fields.Date.context_today(case)
            # sudo: collectors work cases of invoices they may not read (as in the agency handover)
            moves = (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        ("commercial_partner_id", "=", case.partner_id.id),
                        ("company_id", "=", case.company_id.id),
                        ("move_type", "=", "out_invoice"),
                        ("state", "=", "posted"),
                        ("payment_state", "in", ("not_paid", "partial")),
                        ("currency_id", "=", case.currency_id.id),
                        ("invoice_date_due", "<", today),
                        ("id", "not in", case.claim_ids.move_id.ids),
                    ],
                    order="invoice_date_due, id",
                )
            )
            taken = self.env["credit.legal.claim"]._taken_move_ids(moves.ids, case)
            taken |= self.env["credit.agency.handover"]._blocked_move_ids(moves.ids)
            moves = moves.filtered(lambda m, t=taken: m.id not in t)
            if not moves:
                raise UserError(
                    _(
                        "%(customer)s has no overdue open invoice to claim.",
                        customer=case.partner_id.display_name,
                    )
                )
            self.env["credit.legal.claim"].create(
                [{"case_id": case.id, "move_id": move.id} for move in moves]
            )
        return True

    def action_prepare(self):
        """Check the application data (applicant, respondent, claims), add the ancillary items
        the dunning charged (letter fees, flat fees) and mark the case prepared."""
        for case in self:
            case._check_state("draft")
            case._check_application_data()
            case._add_dunning_costs()
            workflow_write(case, {"state": "prepared", "date_prepared": fields.Date.context_today(case)})
            case.message_post(body=_("Court dunning application prepared."))
            case.partner_id.sudo().message_post(
                body=_("Court dunning case %(case)s prepared.", case=case.name)
            )
        return True

    def action_apply(self):
        """The application was filed at the dunning court."""
        self._check_manager()
        for case in self:
            case._check_state("prepared")
            case._check_application_data()
            if not case.no_counter_performance:
                raise UserError(
                    _("Confirm that the claim does not depend on a counter-performance before applying.")
                )
            if not case.court_id:
                raise UserError(_("Select the dunning court."))
        self._step("applied", "date_applied", _("Application filed at the dunning court."))
        return True

    def action_order_issued(self):
        """The court issued the order for payment (Mahnbescheid)."""
        self._check_manager()
        self._check_state("applied")
        self._step("order_issued", "date_order_issued", _("Order for payment issued."))
        return True

    def action_served(self):
        """The order for payment was served: the objection period and the six-month deadline of
        the enforcement order start; a task watches each."""
        self._check_manager()
        self._check_state("order_issued")
        self._step("served", "date_served", _("Order for payment served."))
        for case in self:
            case._open_task(
                "legal_objection_period",
                _("Objection period of %(case)s ends: apply for the enforcement order", case=case.name),
                case.date_objection_end + relativedelta(days=1),
            )
            case._open_task(
                "legal_enforcement_deadline",
                _("Apply for the enforcement order of %(case)s (§701 ZPO)", case=case.name),
                case.date_enforcement_deadline,
            )
        return True

    def action_objection(self):
        """The respondent objected (Widerspruch): the case goes to trial, the lawyer takes over."""
        self._check_manager()
        self._check_state("served")
        self._step("objection", "date_objection", _("The respondent objected: the case goes to trial."))
        for case in self:
            case._close_tasks(_("The respondent objected."))
            case._open_task(
                "legal_trial",
                _("Objection in %(case)s: instruct the lawyer for the trial", case=case.name),
                fields.Date.add(case.date_objection, days=14),
            )
        return True

    def action_apply_enforcement(self):
        """Apply for the enforcement order (Vollstreckungsbescheid): after the objection period,
        within six months of service."""
        self._check_manager()
        self._check_state("served")
        today = fields.Date.context_today(self)
        for case in self:
            if today <= case.date_objection_end:
                raise UserError(
                    _(
                        "The objection period of %(case)s runs until %(date)s: the enforcement order can "
                        "be applied for afterwards.",
                        case=case.name,
                        date=format_date(self.env, case.date_objection_end),
                    )
                )
            if today > case.date_enforcement_deadline:
                raise UserError(
                    _(
                        "The order for payment of %(case)s lapsed on %(date)s (six months after service, "
                        "§701 ZPO).",
                        case=case.name,
                        date=format_date(self.env, case.date_enforcement_deadline),
                    )
                )
        self._step("enforcement_applied", "date_enforcement_applied", _("Enforcement order applied for."))
        for case in self:
            case._close_tasks(_("Enforcement order applied for."))
        return True

    def action_enforcement_issued(self):
        self._check_manager()
        self._check_state("enforcement_applied")
        self._step("enforcement_issued", "date_enforcement_issued", _("Enforcement order issued."))
        for case in self:
            case._open_task(
                "legal_bailiff",
                _("Instruct the bailiff for %(case)s", case=case.name),
                fields.Date.add(case.date_enforcement_issued, days=14),
            )
        return True

    def action_enforcement(self):
        """The bailiff (Gerichtsvollzieher) was instructed."""
        self._check_manager()
        self._check_state("enforcement_issued")
        self._step("enforcement", "date_enforcement", _("Bailiff instructed."))
        for case in self:
            case._close_tasks(_("Bailiff instructed."))
        return True

    def action_close_paid(self):
        self._check_manager()
        for case in self:
            if float_compare(case.amount_remaining, 0.0, precision_rounding=case.currency_id.rounding) > 0:
                raise UserError(
                    _(
                        "%(case)s still has %(amount)s open: close it as partly paid or uncollectable.",
                        case=case.name,
                        amount=format_amount(self.env, case.amount_remaining, case.currency_id),
                    )
                )
        return self._close("paid", _("Court dunning case closed: paid."))

    def action_close_partly_paid(self):
        self._check_manager()
        return self._close("partly_paid", _("Court dunning case closed: partly paid."))

    def action_close_uncollectable(self):
        self._check_manager()
        return self._close("uncollectable", _("Court dunning case closed: uncollectable."))

    def action_cancel(self):
        """Withdraw a case before it was applied for (a Credit Manager also later)."""
        for case in self:
            if case.state not in ("draft", "prepared"):
                case._check_manager()
        return self._close("cancel", _("Court dunning case cancelled."))

    def action_print_data_sheet(self):
        return self.env.ref("credit_control.credit_legal_case_report_action").report_action(self)

    def action_export_csv(self):
        self.ensure_one()
        return self.env["credit.legal.case.export"]._download(self, "csv")

    def action_export_xlsx(self):
        self.ensure_one()
        return self.env["credit.legal.case.export"]._download(self, "xlsx")

    # === BUSINESS METHODS === #
    def _check_state(self, *states):
        for case in self:
            if case.state not in states:
                raise UserError(
                    _(
                        "%(case)s is %(state)s: this step needs %(states)s.",
                        case=case.name,
                        state=dict(case._fields["state"]._description_selection(self.env))[case.state],
                        states=", ".join(
                            dict(case._fields["state"]._description_selection(self.env))[s] for s in states
                        ),
                    )
                )

    def _check_costs_editable(self):
        """Ancillary items change while the case is a draft; later only by Credit Managers."""
        if self.env.su or self.env.user.has_group("credit_control.credit_control_group_manager"):
            return
        if any(case.state != "draft" for case in self):
            raise UserError(
                _("The ancillary items of a prepared court dunning case change only by a Credit Manager.")
            )

    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(
                _("Only Credit Managers may take the court dunning case beyond the preparation.")
            )

    def _step(self, state, date_field, message):
        today = fields.Date.context_today(self)
        for case in self:
            workflow_write(case, {"state": state, date_field: case[date_field] or today})
            case.message_post(body=message)
        return True

    def _close(self, state, message):
        for case in self:
            if case.state in CLOSED_STATES:
                raise UserError(_("%(case)s is closed already.", case=case.name))
        self._step(state, "date_closed", message)
        for case in self:
            case._close_tasks(message)
            case.partner_id.sudo().message_post(
                body=_("%(case)s: %(message)s", case=case.name, message=message)
            )
        return True

    def _open_task(self, origin, name, deadline):
        self.ensure_one()
        return self.env["credit.task"]._create_auto(
            "legal",
            origin,
            self.partner_id,
            name,
            company=self.company_id,
            team="credit",
            user=self.user_id or self.env.user,
            legal_case_id=self,
            move_ids=self.claim_ids.move_id,
            date_deadline=deadline,
        )

    def _close_tasks(self, message):
        return self.env["credit.task"]._close_auto(message, legal_case_id=self)

    def _party_gaps(self, partner):
        """What the application lacks of ``partner`` (applicant or respondent)."""
        gaps = []
        if partner.is_company:
            if not partner.credit_legal_form:
                gaps.append(_("legal form"))
            if not partner.credit_legal_representatives:
                gaps.append(_("legal representatives"))
        for field, label in (
            ("street", _("street")),
            ("zip", _("ZIP")),
            ("city", _("city")),
            ("country_id", _("country")),
        ):
            if not partner[field]:
                gaps.append(label)
        return gaps

    def _check_application_data(self):
        """Applicant, respondent and claims complete: UserError naming what is missing."""
        self.ensure_one()
        problems = []
        respondent = self.partner_id.commercial_partner_id
        gaps = self._party_gaps(respondent)
        if gaps:
            problems.append(
                _(
                    "Respondent %(partner)s: %(gaps)s missing.",
                    partner=respondent.display_name,
                    gaps=", ".join(gaps),
                )
            )
        applicant = self.company_id.partner_id
        gaps = self._party_gaps(applicant)
        if gaps:
            problems.append(
                _(
                    "Applicant %(partner)s: %(gaps)s missing.",
                    partner=applicant.display_name,
                    gaps=", ".join(gaps),
                )
            )
        if not self.claim_ids:
            problems.append(_("The case has no claim."))
        untyped = self.claim_ids.sudo().filtered(lambda claim: not claim.claim_type_id)
        if untyped:
            problems.append(
                _(
                    "Claims without catalogue number: %(moves)s.",
                    moves=", ".join(untyped.move_id.mapped("name")),
                )
            )
        if problems:
            raise UserError(
                _("The court dunning application is incomplete:\n%(problems)s", problems="\n".join(problems))
            )
        self.claim_ids._check_claimable()

    def _add_dunning_costs(self):
        """Ancillary items from the dunning: the fees of the validated letters of the claims'
        invoices not invoiced separately, and the flat fee of §288(5) BGB per invoice of a
        business customer where no letter charged it. Entered once (at preparation)."""
        self.ensure_one()
        Cost = self.env["credit.legal.cost"]
        moves = self.claim_ids.sudo().move_id
        vals = []
        letters = (
            self.env["credit.dunning.line"]
            .sudo()
            .search([("move_id", "in", moves.ids), ("letter_id.state", "=", "done")])
            .letter_id.filtered(lambda letter: letter.fee_amount and not letter.charge_move_ids)
        )
        existing = self.cost_ids
        for letter in letters.sorted(lambda letter: (letter.dunning_date, letter.id)):
            if existing.filtered(lambda cost, lt=letter: cost.letter_id == lt):
                continue
            vals.append(
                {
                    "case_id": self.id,
                    "cost_type": "dunning_fee",
                    "letter_id": letter.id,
                    "name": _(
                        "Dunning fee: %(level)s of %(date)s",
                        level=letter.level_id.name,
                        date=format_date(self.env, letter.dunning_date),
                    ),
                    "amount": letter.currency_id._convert(
                        letter.fee_amount, self.currency_id, self.company_id, letter.dunning_date
                    ),
                    "date": letter.dunning_date,
                }
            )
        if self.claim_flat_fee and self.partner_id.is_company and self.company_id.credit_dunning_flat_fee:
            for claim in self.claim_ids.sudo().sorted(lambda c: (c.date_due, c.id)):
                move = claim.move_id
                if move.credit_dunning_flat_fee_charged or existing.filtered(
                    lambda cost, m=move: cost.cost_type == "flat_fee" and cost.move_id == m
                ):
                    continue
                vals.append(
                    {
                        "case_id": self.id,
                        "cost_type": "flat_fee",
                        "move_id": move.id,
                        "name": _("Flat fee (§288(5) BGB) on %(invoice)s", invoice=move.name),
                        "amount": self.env["credit.dunning.line"]._flat_fee_in(
                            self.currency_id, self.company_id, self.date_interest
                        ),
                        "date": claim.date_due,
                    }
                )
        return Cost.create(vals)

    def _allocate_payments(self):
        """Payments received on the claims' invoices since the case opened (what their open
        amount went down since), allocated per §367(1) BGB to costs, then interest, then
        principal; among the claims per §366(2) BGB the one due first. Amounts in the case's
        currency; per claim in ``claims`` {claim: (interest, principal)}."""
        self.ensure_one()
        currency = self.currency_id
        claims = self.claim_ids.sorted(lambda claim: (claim.date_due or fields.Date.today(), claim.id))
        principal = sum(claims.mapped("principal"))
        interest = sum(claims.mapped("interest_amount"))
        costs = sum(self.cost_ids.mapped("amount"))
        open_now = sum(claim.sudo().move_id.amount_residual for claim in claims)
        paid = currency.round(max(principal - open_now, 0.0))
        rest = paid
        allocated_costs = min(rest, costs)
        rest -= allocated_costs
        per_claim = {}
        allocated_interest = allocated_principal = 0.0
        for claim in claims:
            part = min(rest, claim.interest_amount)
            rest -= part
            per_claim[claim] = [part, 0.0]
            allocated_interest += part
        for claim in claims:
            part = min(rest, claim.principal)
            rest -= part
            per_claim[claim][1] = part
            allocated_principal += part
        if not float_is_zero(rest, precision_rounding=currency.rounding):
            # more received than claimed (e.g. running interest paid): shown as paid, not allocated
            pass
        return {
            "principal": principal,
            "interest": interest,
            "costs": costs,
            "paid": paid,
            "allocated_costs": currency.round(allocated_costs),
            "allocated_interest": currency.round(allocated_interest),
            "allocated_principal": currency.round(allocated_principal),
            "claims": per_claim,
        }

    @api.model
    def _blocked_move_ids(self, move_ids):
        """Ids among ``move_ids`` claimed in an open court dunning case (one query)."""
        if not move_ids:
            return set()
        return self.env["credit.legal.claim"]._taken_move_ids(list(move_ids))
