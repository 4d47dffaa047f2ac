from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.responsible import responsible_credit_manager

# Server-side sentinel: the processes that own a linked record close its task themselves.
CREDIT_TASK_CLOSE = object()

TASK_TYPES = [
    ("credit_check", "Credit Check Needed"),
    ("release_request", "Release Request"),
    ("limit_request", "Limit Request"),
    ("call", "Call Customer"),
    ("dispute", "Resolve Dispute"),
    ("documents", "Collect Documents"),
    ("agency", "Collection Agency Handover"),
    ("review", "Review"),
]

TASK_ORIGINS = [
    ("manual", "Manual"),
    ("release_request", "Blocked Order"),
    ("limit_request", "Limit Request"),
    ("dispute", "Dispute"),
    ("promise_broken", "Broken Promise"),
    ("instalment_missed", "Missed Instalment"),
    ("dunning_call", "Dunning Level with Phone Call"),
    ("review_due", "Review Coming Due"),
    ("rating_downgrade", "Rating Downgrade"),
    ("agency", "Collection Agency Handover"),
]

TASK_STAGES = [
    ("new", "New"),
    ("progress", "In Progress"),
    ("wait_sales", "Waiting for Sales"),
    ("wait_customer", "Waiting for Customer"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]

OPEN_STAGES = ("new", "progress", "wait_sales", "wait_customer")

# the links that make an automatic task the same as an open one (see CreditTask._auto_domain)
AUTO_LINK_FIELDS = (
    "order_id",
    "dispute_id",
    "promise_id",
    "payment_plan_id",
    "limit_request_id",
    "dunning_letter_id",
    "handover_id",
)


class CreditTask(models.Model):
    """A case that sales and the credit team work together: one place for release and limit
    requests, disputes, broken promises, calls, reviews and handovers."""

    _name = "credit.task"
    _description = "Credit Collaboration Task"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "priority desc, date_deadline asc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Title", required=True, tracking=True)
    task_type = fields.Selection(TASK_TYPES, string="Type", required=True, default="call", tracking=True)
    origin = fields.Selection(TASK_ORIGINS, required=True, default="manual", readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True, check_company=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users", string="Assigned To", index=True, tracking=True, default=lambda self: self.env.user
    )
    team = fields.Selection(
        [("sales", "Sales"), ("credit", "Credit Team")], required=True, default="credit", tracking=True
    )
    stage = fields.Selection(
        TASK_STAGES, required=True, default="new", tracking=True, index=True, group_expand=True
    )
    is_open = fields.Boolean(compute="_compute_is_open", store=True, index=True)
    date_deadline = fields.Date(string="Deadline", tracking=True, index=True)
    priority = fields.Selection(
        [("0", "Normal"), ("1", "Important"), ("2", "Urgent")], default="0", tracking=True
    )
    description = fields.Html()
    order_id = fields.Many2one("sale.order", string="Sales Order", check_company=True, index="btree_not_null")
    move_ids = fields.Many2many(
        "account.move",
        "credit_task_account_move_rel",
        "task_id",
        "move_id",
        string="Invoices",
        check_company=True,
    )
    dunning_letter_id = fields.Many2one(
        "credit.dunning.letter", string="Dunning Letter", check_company=True, index="btree_not_null"
    )
    limit_request_id = fields.Many2one(
        "credit.limit.request", string="Limit Request", check_company=True, index="btree_not_null"
    )
    dispute_id = fields.Many2one(
        "credit.dispute", string="Dispute", check_company=True, index="btree_not_null"
    )
    promise_id = fields.Many2one(
        "credit.promise", string="Promise to Pay", check_company=True, index="btree_not_null"
    )
    payment_plan_id = fields.Many2one(
        "credit.payment.plan", string="Payment Plan", check_company=True, index="btree_not_null"
    )
    handover_id = fields.Many2one(
        "credit.agency.handover", string="Agency Handover", check_company=True, index="btree_not_null"
    )
    order_credit_block_state = fields.Selection(
        related="order_id.credit_block_state", string="Order Credit Status"
    )
    date_done = fields.Datetime(string="Closed On", readonly=True, copy=False)
    color = fields.Integer(compute="_compute_color")
    is_overdue = fields.Boolean(compute="_compute_color")

    @api.depends("date_deadline", "is_open", "priority")
    def _compute_color(self):
        today = fields.Date.context_today(self)
        for task in self:
            task.is_overdue = bool(task.is_open and task.date_deadline and task.date_deadline < today)
            task.color = 1 if task.is_overdue else (3 if task.priority == "2" and task.is_open else 0)

    @api.depends("stage")
    def _compute_is_open(self):
        for task in self:
            task.is_open = task.stage in OPEN_STAGES

    @api.model
    def _create_auto(self, task_type, origin, partner, name, company=None, team="credit", user=None, **links):
        """The one entry point for tasks that other processes open (blocked orders, limit
        requests, disputes, broken promises, dunning calls, reviews, rating downgrades).

        ``links`` are field values of this model (order_id, move_ids, dispute_id, promise_id,
        payment_plan_id, dunning_letter_id, limit_request_id, handover_id, date_deadline,
        priority, description). An open task of the same type, origin and customer for the same
        linked record (and team) is returned instead of opening a second one. Runs as superuser: the
        caller may be a salesperson or the scheduler; the task belongs to ``user`` (default:
        the customer's credit manager for the credit team, the salesperson for sales).
        Processes opening many tasks at once use :meth:`_create_auto_batch`."""
        company = company or self.env.company
        partner = partner.commercial_partner_id
        Task = self.sudo().with_company(company)
        existing = Task.search(
            self._auto_domain(task_type, origin, partner.id, company.id, team, links), limit=1
        )
        if existing:
            return existing
        if user is None:
            user = Task._default_assignee(partner, company, team)
        task = Task.create(self._auto_vals(task_type, origin, partner, name, company, team, user, links))
        if task.user_id:
            task.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=task.date_deadline or fields.Date.context_today(task),
                summary=name,
                note=task.description or False,
                user_id=task.user_id.id,
            )
        return task

    @api.model
    def _create_auto_batch(self, specs):
        """:meth:`_create_auto` for many tasks at once, in a number of queries that does not
        grow with the tasks (the nightly jobs): ``specs`` is a list of dicts with the keys
        ``task_type``, ``origin``, ``partner``, ``name`` and optionally ``company``, ``team``,
        ``user`` and ``links`` (as the keyword arguments of :meth:`_create_auto`).

        One search for the open tasks to reuse, one ``create`` for the new tasks, one for their
        followers (the creator and the assignee), one batch of creation notes and one ``create``
        for their to-do activities. Unlike the single :meth:`_create_auto`, the assignees get no
        e-mail per task or activity (the nightly job would send one per customer): the
        activities show in their activity menu. Returns the tasks in the order of ``specs``
        (a reused task where one was open)."""
        Task = self.sudo()
        if not specs:
            return Task
        specs = [
            dict(spec, company=spec.get("company") or self.env.company, team=spec.get("team") or "credit")
            for spec in specs
        ]
        # the commercial partners of all specs in one read
        partners = self.env["res.partner"].browse({spec["partner"].id for spec in specs})
        commercial = {partner.id: partner.commercial_partner_id for partner in partners}
        for spec in specs:
            spec["partner"] = commercial[spec["partner"].id]
        keys = [self._auto_key(spec) for spec in specs]
        existing = self._auto_open_tasks(specs, keys)
        # the new tasks, each once (two specs of the same kind open one task)
        new_specs = {}
        for key, spec in zip(keys, specs, strict=True):
            if key not in existing:
                new_specs.setdefault(key, spec)
        if new_specs:
            assignees = self._default_assignees(
                [spec for spec in new_specs.values() if spec.get("user") is None]
            )
            vals_list = []
            for spec in new_specs.values():
                user = spec.get("user")
                if user is None:
                    user = assignees[(spec["partner"].id, spec["company"].id, spec["team"])]
                vals_list.append(
                    self._auto_vals(
                        spec["task_type"],
                        spec["origin"],
                        spec["partner"],
                        spec["name"],
                        spec["company"],
                        spec["team"],
                        user,
                        spec.get("links") or {},
                    )
                )
            # mail.thread's per-record chatter of a create, done in one batch afterwards
            tasks = Task.browse(Task.with_context(tracking_disable=True).create(vals_list).ids)
            tasks._auto_batch_chatter()
            for key, task in zip(new_specs, tasks, strict=True):
                existing[key] = task
        return Task.browse([existing[key].id for key in keys])

    @api.model
    def _auto_open_tasks(self, specs, keys):
        """The open tasks to reuse for ``specs``, by key: one search over every (type, origin,
        customer, company) of the specs."""
        existing = {}
        candidates = self.sudo().search(
            [
                ("is_open", "=", True),
                ("task_type", "in", list({spec["task_type"] for spec in specs})),
                ("origin", "in", list({spec["origin"] for spec in specs})),
                ("partner_id", "in", list({spec["partner"].id for spec in specs})),
                ("company_id", "in", list({spec["company"].id for spec in specs})),
            ],
            order="id",
        )
        wanted = set(keys)
        for task in candidates:
            for key in self._task_keys(task, wanted):
                existing.setdefault(key, task)
        return existing

    def _auto_batch_chatter(self):
        """What mail.thread's ``create`` does for each new task, in one batch: the creator and
        the assignee follow the task, a creation note, a to-do activity for the assignee."""
        tasks, context = self, self.env.context
        if not context.get("tracking_disable"):
            default_subtypes = self.env["mail.message.subtype"].default_subtypes(self._name)[0].ids
            creator = self.env.user.partner_id if self.env.user.active else None
            followers = []
            for task in tasks:
                partner_ids = {task.user_id.partner_id.id} if task.user_id else set()
                if creator and not context.get("mail_create_nosubscribe"):
                    partner_ids.add(creator.id)
                followers += [
                    {
                        "res_model": self._name,
                        "res_id": task.id,
                        "partner_id": partner_id,
                        "subtype_ids": [fields.Command.set(default_subtypes)],
                    }
                    for partner_id in sorted(partner_ids)
                ]
            if followers:
                self.env["mail.followers"].sudo().with_context(default_partner_id=False).create(followers)
            if not context.get("mail_create_nolog"):
                tasks._message_log_batch({task.id: task._creation_message() for task in tasks})
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        activities = [
            {
                "activity_type_id": todo.id,
                "summary": task.name,
                "automated": True,
                "note": task.description or todo.default_note,
                "date_deadline": task.date_deadline or today,
                "res_model_id": model_id,
                "res_id": task.id,
                "user_id": task.user_id.id,
            }
            for task in tasks
            if task.user_id
        ]
        if activities:
            # no e-mail per activity (mail_activity_quick_update): see _create_auto_batch
            self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(activities)

    @api.model
    def _auto_domain(self, task_type, origin, partner_id, company_id, team, links):
        domain = [
            ("task_type", "=", task_type),
            ("origin", "=", origin),
            ("partner_id", "=", partner_id),
            ("company_id", "=", company_id),
            ("team", "=", team),
            ("is_open", "=", True),
        ]
        for key in AUTO_LINK_FIELDS:
            if links.get(key):
                domain.append((key, "=", getattr(links[key], "id", links[key])))
        return domain

    @api.model
    def _auto_key(self, spec):
        """What makes an automatic task the same as an open one (see :meth:`_auto_domain`)."""
        links = spec.get("links") or {}
        return (
            spec["task_type"],
            spec["origin"],
            spec["partner"].id,
            spec["company"].id,
            spec["team"],
            tuple((key, getattr(links[key], "id", links[key])) for key in AUTO_LINK_FIELDS if links.get(key)),
        )

    def _task_keys(self, task, wanted):
        """The keys of ``wanted`` (see :meth:`_auto_key`) that the open ``task`` matches: a task
        matches a key whose linked records it has (it may have more)."""
        head = (task.task_type, task.origin, task.partner_id.id, task.company_id.id, task.team)
        return [
            key for key in wanted if key[:5] == head and all(task[name].id == value for name, value in key[5])
        ]

    @api.model
    def _auto_vals(self, task_type, origin, partner, name, company, team, user, links):
        vals = {
            "task_type": task_type,
            "origin": origin,
            "partner_id": partner.id,
            "company_id": company.id,
            "name": name,
            "team": team,
            "user_id": user.id if user else False,
        }
        for key, value in links.items():
            if key == "move_ids":
                vals[key] = [fields.Command.set(getattr(value, "ids", value))]
            else:
                vals[key] = getattr(value, "id", value)
        return vals

    @api.model
    def _default_assignees(self, specs):
        """{(partner id, company id, team): user} of :meth:`_default_assignee` for many specs:
        the salespeople and credit managers read in one go, the fallback Credit Manager searched
        once per company."""
        result, fallbacks = {}, {}
        by_company = {}
        for spec in specs:
            by_company.setdefault(spec["company"], []).append(spec)
        for company, company_specs in by_company.items():
            # sudo: the caller may be a salesperson or the scheduler; only the users are looked up
            partners = (
                self.env["res.partner"]
                .sudo()
                .with_company(company)
                .browse({spec["partner"].id for spec in company_specs})
            )
            partners.fetch(["user_id", "credit_manager_id"])
            for spec in company_specs:
                partner = partners.browse(spec["partner"].id)
                key = (partner.id, company.id, spec["team"])
                if spec["team"] == "sales":
                    salesperson = partner.user_id
                    if salesperson and salesperson.active and not salesperson.share:
                        result[key] = salesperson
                        continue
                manager = partner.credit_manager_id
                if manager and manager.active and not manager.share and company in manager.company_ids:
                    result[key] = manager
                    continue
                if company.id not in fallbacks:
                    fallbacks[company.id] = responsible_credit_manager(
                        self.env, self.env["res.partner"], company
                    )
                result[key] = fallbacks[company.id]
        return result

    @api.model
    def _close_auto(self, message=None, stage="done", **links):
        """Close the open tasks linked to a record whose process ended (an order released, a
        limit request decided, a dispute resolved): ``links`` as in :meth:`_create_auto`
        (``order_id=order``). The message goes into each task's chatter and closes its
        activities. Runs as superuser; returns the closed tasks."""
        domain = [("is_open", "=", True)]
        for key, value in links.items():
            domain.append((key, "in", getattr(value, "ids", [value])))
        tasks = self.sudo().search(domain)
        if not tasks:
            return tasks
        if message:
            for task in tasks:
                task.message_post(body=message, subtype_xmlid="mail.mt_note")
        tasks.with_context(credit_task_close=CREDIT_TASK_CLOSE)._close(stage, message)
        return tasks

    def _close(self, stage, feedback=None):
        self.write({"stage": stage})
        if stage == "done":
            self.activity_feedback(["mail.mail_activity_data_todo"], feedback=feedback or _("Task done."))
        else:
            self.activity_unlink(["mail.mail_activity_data_todo"])

    def _default_assignee(self, partner, company, team):
        if team == "sales":
            salesperson = partner.with_company(company).sudo().user_id
            if salesperson and salesperson.active and not salesperson.share:
                return salesperson
        return responsible_credit_manager(self.env, partner, company)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
            if vals.get("stage") in ("done", "cancel"):
                vals["date_done"] = fields.Datetime.now()
        return super().create(vals_list)

    def write(self, vals):
        if "stage" in vals:
            closed = vals["stage"] in ("done", "cancel")
            if closed:
                self._check_can_close()
            vals = dict(vals, date_done=fields.Datetime.now() if closed else False)
        if vals.get("partner_id"):
            vals["partner_id"] = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
        return super().write(vals)

    def _check_can_close(self):
        """A task whose linked record still waits for its decision is closed (done or cancelled)
        by that decision (releasing or refusing the order, deciding or withdrawing the limit
        request, resolving the dispute), not by hand: otherwise the record would be left waiting
        without anybody's task — an order "Release Requested" that nobody decides."""
        if self.env.context.get("credit_task_close") is CREDIT_TASK_CLOSE:
            return
        for task in self:
            waiting = task._credit_waiting_record()
            if waiting:
                raise UserError(
                    _(
                        "Task %(task)s cannot be closed while %(record)s still waits for a "
                        "decision: decide it there (release or refuse the order, decide or withdraw "
                        "the request, resolve or reject the dispute); the task closes with it.",
                        task=task.display_name,
                        record=waiting,
                    )
                )

    def _credit_waiting_record(self):
        """Display name of the linked record still waiting for a decision, or False."""
        self.ensure_one()
        task = self.sudo()
        if task.task_type == "release_request" and task.order_id.credit_block_state == "requested":
            if task.order_id.state in ("draft", "sent"):
                return task.order_id.display_name
        if task.task_type == "limit_request" and task.limit_request_id.state == "submitted":
            return task.limit_request_id.display_name
        if task.task_type == "dispute" and task.dispute_id.state in ("open", "progress"):
            return task.dispute_id.display_name
        return False

    def action_done(self):
        self._close("done")
        return True

    def action_cancel(self):
        self._close("cancel")
        return True

    def action_reopen(self):
        self.write({"stage": "progress"})
        return True

    def action_release_order(self):
        """Release task: release the blocked order (the release wizard of the order)."""
        return self._release_task_order().action_open_credit_release_wizard()

    def action_override_order(self):
        """Release task: confirm the blocked order with an override."""
        return self._release_task_order().action_open_credit_override_wizard()

    def action_refuse_release(self):
        """Release task: refuse the release (the salesperson is told why)."""
        action = self._release_task_order()._credit_wizard_action("refuse")
        action["name"] = _("Refuse Release")
        return action

    def _release_task_order(self):
        self.ensure_one()
        order = self.order_id
        if self.task_type != "release_request" or not order or order.state not in ("draft", "sent"):
            raise UserError(
                _("Task %(task)s has no quotation waiting for a release.", task=self.display_name)
            )
        return order

    def action_open_linked(self):
        """Open the record this task is about (order, limit request, dispute, handover...)."""
        self.ensure_one()
        for field in (
            "order_id",
            "limit_request_id",
            "dispute_id",
            "promise_id",
            "payment_plan_id",
            "handover_id",
            "dunning_letter_id",
        ):
            record = self[field]
            if record:
                return {
                    "type": "ir.actions.act_window",
                    "res_model": record._name,
                    "res_id": record.id,
                    "view_mode": "form",
                    "views": [(False, "form")],
                }
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
