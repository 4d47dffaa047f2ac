from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

# Server-side sentinel: only the workflow methods (buttons, scheduler) of promises, disputes and
# payment plans write their state; RPC callers cannot forge this object.
COLLECTION_WORKFLOW = object()


def prepare_collection_vals(env, vals, sequence_code):
    """Values of a new promise, dispute, payment plan or agency handover: the reference from
    its sequence and the customer's commercial entity (contacts are replaced by their company)."""
    if vals.get("name", "/") == "/":
        # sudo: salespeople open disputes; the sequences are shared by all companies
        vals["name"] = env["ir.sequence"].sudo().next_by_code(sequence_code) or "/"
    if vals.get("partner_id"):
        vals["partner_id"] = env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
    return vals


def _own_default(records, name):
    """The field's own default (not a context key), in cache format."""
    field = records._fields[name]
    return field.convert_to_cache(field.default(records) if field.default else False, records, validate=False)


def _is_workflow_privileged(records):
    return (
        records.env.su
        or records.env.context.get("credit_collection_workflow") is COLLECTION_WORKFLOW
        or records.env.user.has_group("credit_control.credit_control_group_manager")
    )


def check_workflow_vals(records, vals, protected, creating=False):
    """Refuse workflow-controlled values (state, closing date...) in ``vals`` unless a workflow
    method writes them (or a Credit Manager, e.g. taking over history): at creation only their
    own defaults pass (a new record starts at the beginning of its workflow), in a write nothing
    does."""
    if _is_workflow_privileged(records):
        return
    written = protected.intersection(vals)
    if creating:
        written = {
            name
            for name in written
            if records._fields[name].convert_to_cache(vals[name], records, validate=False)
            != _own_default(records, name)
        }
    if written:
        raise AccessError(
            records.env._(
                "%(document)s: %(fields)s change only through its buttons.",
                document=records._description,
                fields=", ".join(
                    sorted(records._fields[name].get_description(records.env)["string"] for name in written)
                ),
            )
        )


def workflow_defaults(records, values, protected):
    """``default_get`` helper: no ``default_*`` context key (or personal default) pre-sets a
    workflow-controlled field; its own default stays."""
    if _is_workflow_privileged(records):
        return values
    for name in protected.intersection(values):
        field = records._fields[name]
        if field.default:
            values[name] = field.convert_to_write(_own_default(records, name), records)
        else:
            del values[name]
    return values


def workflow_write(records, vals):
    """The workflow methods' write of state fields."""
    return records.with_context(credit_collection_workflow=COLLECTION_WORKFLOW).write(vals)


def log_on_moves(moves, body):
    """A chatter note on each of ``moves`` (one batch, as superuser: a salesperson may neither read
    nor edit the invoices of other salespeople; read ``moves`` as superuser too)."""
    if moves:
        moves.sudo()._message_log_batch(dict.fromkeys(moves.ids, body))


class CreditCollectionDocumentMixin(models.AbstractModel):
    """What promises to pay, disputes and payment plans share: a document of a customer's
    commercial entity about some of its posted invoices, in one company and currency, numbered
    by its own sequence (the model's name is the sequence code), with a chatter.

    Workflow-controlled fields (``_collection_workflow_fields``: state, closing date ...) are
    written by the workflow methods only (``workflow_write``; see ``check_workflow_vals``): no
    create, write or ``default_*`` context key of an RPC caller sets them. A new document logs
    ``_collection_creation_note`` on its invoices.

    An inheriting model declares ``move_ids`` again with its relation table and invoice domain
    (the attributes are merged with the ones here), the ``user_id`` label and default, and its
    own ``state`` field (the selection of its workflow)."""

    _name = "credit.collection.document.mixin"
    _description = "Collection Document"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _check_company_auto = True

    # Written by the document's workflow methods only (buttons, scheduler): each model's list.
    _collection_workflow_fields = frozenset()

    # === FIELDS === #
    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True, check_company=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    move_ids = fields.Many2many("account.move", string="Invoices", check_company=True, required=True)
    user_id = fields.Many2one("res.users", string="Responsible")

    # === ONCHANGE === #
    @api.onchange("move_ids")
    def _onchange_move_ids(self):
        moves = self.move_ids
        if not moves:
            return
        if not self.partner_id:
            self.partner_id = moves[0].commercial_partner_id
        if len(moves.currency_id) == 1:
            self.currency_id = moves.currency_id

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        return workflow_defaults(self, super().default_get(fields_list), self._collection_workflow_fields)

    @api.model_create_multi
    def create(self, vals_list):
        self._check_manage_rights()
        for vals in vals_list:
            check_workflow_vals(self, vals, self._collection_workflow_fields, creating=True)
            self._check_invoice_access(vals)
            self._prepare_create_vals(vals)
        records = super().create(vals_list)
        records._log_creation()
        return records

    def write(self, vals):
        self._check_manage_rights()
        check_workflow_vals(self, vals, self._collection_workflow_fields)
        self._check_invoice_access(vals)
        return super().write(vals)

    # === BUSINESS METHODS === #
    def _check_manage_rights(self):
        """Hook: refuse users who may not create or change the document (everybody may here)."""

    def _check_invoice_access(self, vals):
        """Hook: refuse invoices in ``vals`` the user may not link (any may here)."""

    @api.model
    def _prepare_create_vals(self, vals):
        """Complete the values of a new document (in place): reference, commercial partner."""
        return prepare_collection_vals(self.env, vals, self._name)

    def _collection_creation_note(self):
        """The chatter note logged on the invoices of the new document ``self``, or None."""
        return None

    def _log_creation(self):
        for record in self:
            body = record._collection_creation_note()
            if body:
                log_on_moves(record.sudo().move_ids, body)

    def _check_collection_moves(self, moves, allow_paid=False):
        """The invoices of the document: posted customer invoices of its customer, company and
        currency, not paid unless ``allow_paid``. ``moves``: the invoices, read as superuser by
        the caller (a collector may link invoices it cannot read)."""
        self.ensure_one()
        if not moves:
            raise ValidationError(self.env._("Select at least one invoice."))
        customer = self.partner_id.commercial_partner_id
        wrong_type = moves.filtered(lambda m: m.move_type != "out_invoice" or m.state != "posted")
        if wrong_type:
            raise ValidationError(
                self.env._(
                    "Only posted customer invoices can be selected: %(moves)s",
                    moves=", ".join(wrong_type.mapped("display_name")),
                )
            )
        foreign = moves.filtered(lambda m: m.commercial_partner_id != customer)
        if foreign:
            raise ValidationError(
                self.env._(
                    "The invoices %(moves)s belong to another customer than %(customer)s.",
                    moves=", ".join(foreign.mapped("display_name")),
                    customer=customer.display_name,
                )
            )
        other_company = moves.filtered(lambda m: m.company_id != self.company_id)
        if other_company:
            raise ValidationError(
                self.env._(
                    "The invoices %(moves)s belong to another company than %(company)s.",
                    moves=", ".join(other_company.mapped("display_name")),
                    company=self.company_id.name,
                )
            )
        other_currency = moves.filtered(lambda m: m.currency_id != self.currency_id)
        if other_currency:
            raise ValidationError(
                self.env._(
                    "The invoices %(moves)s are not in %(currency)s.",
                    moves=", ".join(other_currency.mapped("display_name")),
                    currency=self.currency_id.name,
                )
            )
        if not allow_paid:
            paid = moves.filtered(lambda m: m.payment_state not in ("not_paid", "partial"))
            if paid:
                raise ValidationError(
                    self.env._(
                        "The invoices %(moves)s are already paid.",
                        moves=", ".join(paid.mapped("display_name")),
                    )
                )
