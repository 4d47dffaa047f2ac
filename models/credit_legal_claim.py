from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .credit_collection_document_mixin import check_workflow_vals

# frozen when the claim is added: only the module's code (or a Credit Manager) sets them
CLAIM_FROZEN_FIELDS = frozenset({"principal"})


class CreditLegalClaim(models.Model):
    """One claim (Hauptforderung) of a court dunning case: one invoice, its catalogue number,
    the open amount when it was added, and the statutory interest of §288 BGB on it from the day
    after its due date up to the case's interest date, in base-rate periods."""

    _name = "credit.legal.claim"
    _description = "Court Dunning Claim"
    _order = "date_due, id"
    _check_company_auto = True

    # === FIELDS === #
    case_id = fields.Many2one("credit.legal.case", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="case_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="case_id.currency_id")
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    claim_type_id = fields.Many2one(
        "credit.legal.claim.type",
        string="Claim Type",
        compute="_compute_claim_type_id",
        store=True,
        readonly=False,
        help="Catalogue number of the claim in the application.",
    )
    claim_code = fields.Char(related="claim_type_id.code", string="Catalogue Number")
    document_number = fields.Char(related="move_id.name", string="Document")
    document_date = fields.Date(related="move_id.invoice_date", string="Document Date")
    date_due = fields.Date(related="move_id.invoice_date_due", string="Due Date", store=True)
    principal = fields.Monetary(
        help="Open amount of the invoice when it was added to the case.", readonly=True
    )
    business = fields.Boolean(
        compute="_compute_business",
        store=True,
        help="A business customer: interest at the base rate plus the company's points for "
        "businesses (9 by default), else for consumers (5).",
    )
    interest_points = fields.Float(
        string="Points above Base Rate", compute="_compute_business", store=True, digits=(16, 2)
    )
    interest_date_from = fields.Date(string="Interest From", compute="_compute_interest", store=True)
    interest_date_to = fields.Date(related="case_id.date_interest", string="Interest Until")
    interest_amount = fields.Monetary(string="Interest", compute="_compute_interest", store=True)
    allocated_interest = fields.Monetary(string="Paid on Interest", compute="_compute_allocated")
    allocated_principal = fields.Monetary(string="Paid on Principal", compute="_compute_allocated")

    _sql_constraints = [
        ("case_move_unique", "UNIQUE(case_id, move_id)", "An invoice can be claimed only once in a case.")
    ]

    # === COMPUTE === #
    @api.depends("move_id")
    def _compute_claim_type_id(self):
        types = self.env["credit.legal.claim.type"]._for_moves(self.move_id.sudo())
        for claim in self:
            if not claim.claim_type_id:
                claim.claim_type_id = types.get(claim.move_id.id, False)

    @api.depends("case_id.partner_id.is_company", "company_id")
    def _compute_business(self):
        for claim in self:
            company = claim.company_id
            claim.business = claim.case_id.partner_id.is_company
            claim.interest_points = (
                company.credit_interest_points_business
                if claim.business
                else company.credit_interest_points_consumer
            )

    @api.depends("principal", "date_due", "business", "case_id.date_interest")
    def _compute_interest(self):
        base_rates = self.env["credit.base.rate"]
        for claim in self:
            due = claim.date_due
            claim.interest_date_from = due and due + timedelta(days=1)
            claim.interest_amount = base_rates.statutory_interest(
                claim.principal,
                due,
                claim.case_id.date_interest,
                business=claim.business,
                company=claim.company_id,
                currency=claim.currency_id,
            )

    def _compute_allocated(self):
        for case in self.case_id:
            allocation = case._allocate_payments()["claims"]
            for claim in self.filtered(lambda c, k=case: c.case_id == k):
                claim.allocated_interest, claim.allocated_principal = allocation.get(claim, (0.0, 0.0))

    # === CONSTRAINTS === #
    @api.constrains("move_id", "case_id")
    def _check_move(self):
        # sudo: collectors claim invoices they may not read
        for claim in self.sudo():
            move, case = claim.move_id, claim.case_id
            if move.move_type != "out_invoice" or move.state != "posted":
                raise ValidationError(
                    _("Only posted customer invoices can be claimed: %(move)s.", move=move.display_name)
                )
            if move.commercial_partner_id != case.partner_id.commercial_partner_id:
                raise ValidationError(
                    _(
                        "The invoice %(move)s belongs to another customer than %(customer)s.",
                        move=move.display_name,
                        customer=case.partner_id.display_name,
                    )
                )
            if move.company_id != case.company_id or move.currency_id != case.currency_id:
                raise ValidationError(
                    _(
                        "The invoice %(move)s is not an invoice of %(company)s in %(currency)s.",
                        move=move.display_name,
                        company=case.company_id.name,
                        currency=case.currency_id.name,
                    )
                )
        self._check_claimable()

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_workflow_vals(self, vals, CLAIM_FROZEN_FIELDS, creating=True)
        cases = self.env["credit.legal.case"].browse([vals.get("case_id") for vals in vals_list])
        if any(case.state != "draft" for case in cases):
            raise UserError(_("Claims can be added only while the court dunning case is a draft."))
        for vals in vals_list:
            move = self.env["account.move"].sudo().browse(vals.get("move_id"))
            if "principal" not in vals and move.exists():
                if move.payment_state not in ("not_paid", "partial"):
                    raise UserError(_("The invoice %(move)s is already paid.", move=move.display_name))
                vals["principal"] = move.amount_residual
        return super().create(vals_list)

    def write(self, vals):
        check_workflow_vals(self, vals, CLAIM_FROZEN_FIELDS)
        if "move_id" in vals or "case_id" in vals:
            raise UserError(_("Remove the claim and add the other invoice instead."))
        if any(claim.case_id.state != "draft" for claim in self) and not self.env.user.has_group(
            "credit_control.credit_control_group_manager"
        ):
            raise UserError(_("The claims of a prepared court dunning case change only by a Credit Manager."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_draft_case(self):
        if any(claim.case_id.state != "draft" for claim in self):
            raise UserError(_("Claims can be removed only while the court dunning case is a draft."))

    # === BUSINESS METHODS === #
    def _check_claimable(self):
        """Refuse claims whose invoice is paid, in another open case or with a collection agency."""
        paid = self.sudo().filtered(
            lambda claim: claim.case_id.state in ("draft", "prepared")
            and claim.move_id.payment_state not in ("not_paid", "partial")
        )
        if paid:
            raise ValidationError(
                _("The invoices %(moves)s are already paid.", moves=", ".join(paid.move_id.mapped("name")))
            )
        for case in self.case_id:
            moves = self.sudo().filtered(lambda claim, k=case: claim.case_id == k).move_id
            taken = self._taken_move_ids(moves.ids, case)
            if taken:
                raise ValidationError(
                    _(
                        "The invoices %(moves)s are claimed in another open court dunning case.",
                        moves=", ".join(moves.browse(sorted(taken)).mapped("name")),
                    )
                )
            sold = moves.filtered(lambda move: move.credit_factoring_state == "sold")
            if sold:
                raise ValidationError(
                    _(
                        "The invoices %(moves)s are sold to a factor: the factor collects them (take "
                        "them back from the factor first).",
                        moves=", ".join(sold.mapped("name")),
                    )
                )
            handed = self.env["credit.agency.handover"]._blocked_move_ids(moves.ids)
            if handed:
                raise ValidationError(
                    _(
                        "The invoices %(moves)s are with a collection agency.",
                        moves=", ".join(moves.browse(sorted(handed)).mapped("name")),
                    )
                )

    @api.model
    def _taken_move_ids(self, move_ids, case=None):
        """Ids among ``move_ids`` claimed in an open court dunning case (other than ``case``)."""
        if not move_ids:
            return set()
        from .credit_legal_case import OPEN_STATES

        self.flush_model(["move_id", "case_id"])
        self.env["credit.legal.case"].flush_model(["state"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT claim.move_id
              FROM credit_legal_claim claim
              JOIN credit_legal_case c ON c.id = claim.case_id
             WHERE claim.move_id = ANY(%s) AND c.state IN %s AND c.id != %s
                """,
                list(move_ids),
                OPEN_STATES,
                case.id if case else 0,
            )
        )
        return {row[0] for row in rows}
