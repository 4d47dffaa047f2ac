from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

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

    def action_print_data_sheet(self):
        return self.env.ref("credit_control.credit_legal_case_report_action").report_action(self)

    def action_export_csv(self):
        self.ensure_one()
        return self.env["credit.legal.case.export"]._download(self, "csv")

    def action_export_xlsx(self):
        self.ensure_one()
        return self.env["credit.legal.case.export"]._download(self, "xlsx")

    # === BUSINESS METHODS === #
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

    @api.model
    def _blocked_move_ids(self, move_ids):
        """Ids among ``move_ids`` claimed in an open court dunning case (one query)."""
        if not move_ids:
            return set()
        return self.env["credit.legal.claim"]._taken_move_ids(list(move_ids))
