from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditTask(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Task = cls.env["credit.task"]
        cls.todo = cls.env.ref("mail.mail_activity_data_todo")
        cls.customer.write({"user_id": cls.sales_user.id})
        cls.customer.with_company(cls.company).credit_manager_id = cls.credit_manager
        cls.other_sales = new_test_user(
            cls.env, "cc_sales_other", groups="sales_team.group_sale_salesman", company_id=cls.company.id
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "Andere KG", "is_company": True, "user_id": cls.other_sales.id}
        )

    def _auto(self, **kwargs):
        values = {
            "task_type": "call",
            "origin": "manual",
            "partner": self.customer,
            "name": "Call the customer",
            "company": self.company,
        }
        values.update(kwargs)
        return self.Task._create_auto(
            values.pop("task_type"), values.pop("origin"), values.pop("partner"), values.pop("name"), **values
        )

    # --- the one entry point --- #
    def test_create_auto_is_idempotent_and_schedules_an_activity(self):
        task = self._auto(partner=self.contact, date_deadline=self.today)
        self.assertEqual(task.partner_id, self.customer, "contacts are replaced by their company")
        self.assertEqual(task.user_id, self.credit_manager, "credit team: the customer's credit manager")
        self.assertEqual(task.activity_ids.user_id, self.credit_manager)
        self.assertEqual(task.activity_ids.activity_type_id, self.todo)
        self.assertEqual(self._auto(), task, "an open task of the same kind is reused")
        sales_task = self._auto(team="sales", name="Ask the customer for the delivery note")
        self.assertNotEqual(sales_task, task)
        self.assertEqual(sales_task.user_id, self.sales_user, "sales team: the salesperson")
        task.action_done()
        self.assertFalse(task.is_open)
        self.assertTrue(task.date_done)
        self.assertFalse(task.activity_ids, "the activity is marked done with the task")
        self.assertNotEqual(self._auto(), task, "a closed task is not reopened: a new one starts")

    def test_create_auto_batch_reuses_and_assigns_like_create_auto(self):
        open_task = self._auto(date_deadline=self.today)
        specs = [
            # the open task of the same kind is reused
            {"task_type": "call", "origin": "manual", "partner": self.contact, "name": "Call again"},
            # a new one for the sales team: the salesperson
            {
                "task_type": "documents",
                "origin": "manual",
                "partner": self.customer,
                "name": "Delivery note",
                "team": "sales",
                "links": {"date_deadline": self.today, "priority": "1"},
            },
            # twice the same kind in one batch: one task
            {"task_type": "review", "origin": "review_due", "partner": self.other_customer, "name": "Review"},
            {"task_type": "review", "origin": "review_due", "partner": self.other_customer, "name": "Review"},
            # an explicit assignee
            {
                "task_type": "call",
                "origin": "manual",
                "partner": self.other_customer,
                "name": "Call",
                "user": self.collector,
            },
        ]
        tasks = self.Task._create_auto_batch([dict(spec, company=self.company) for spec in specs])
        self.assertEqual(len(tasks), 5)
        self.assertEqual(tasks[0], open_task)
        self.assertEqual(tasks[2], tasks[3])
        self.assertEqual(len(set((tasks - open_task).ids)), 3, "three new tasks")
        sales_task = tasks[1]
        self.assertEqual(
            (sales_task.partner_id, sales_task.team, sales_task.user_id, sales_task.priority),
            (self.customer, "sales", self.sales_user, "1"),
        )
        self.assertEqual(sales_task.activity_ids.user_id, self.sales_user)
        self.assertEqual(sales_task.activity_ids.summary, "Delivery note")
        # no credit manager of its own: any Credit Manager of the company, as _create_auto does
        self.assertEqual(
            tasks[2].user_id, self.Task._default_assignee(self.other_customer, self.company, "credit")
        )
        self.assertEqual((tasks[4].user_id, tasks[4].activity_ids.user_id), (self.collector,) * 2)
        self.assertEqual(self.Task._create_auto_batch([dict(specs[1], company=self.company)]), sales_task)

    def test_close_auto_posts_the_message(self):
        task = self._auto(task_type="documents", origin="manual")
        closed = self.Task._close_auto("Documents received", stage="done", partner_id=self.customer)
        self.assertEqual(closed, task)
        self.assertEqual(task.stage, "done")
        self.assertIn("Documents received", str(task.message_ids.mapped("body")))

    # --- access --- #
    def test_salesperson_works_own_tasks_only(self):
        credit_task = self._auto(name="Check the bank guarantee")  # credit team, credit manager
        sales_task = self._auto(team="sales", task_type="documents", name="Get the signed order")
        foreign_sales_task = self._auto(
            team="sales", partner=self.other_customer, task_type="documents", name="Other salesperson's"
        )
        Task = self.Task.with_user(self.sales_user)
        visible = Task.search([("id", "in", (credit_task | sales_task | foreign_sales_task).ids)])
        self.assertEqual(visible, sales_task)
        with self.assertRaises(AccessError) as caught:
            credit_task.with_user(self.sales_user).read(["name"])
        self.assertRegex(
            str(caught.exception),
            r"doesn't have 'read' access to:\n- Credit Collaboration Task \(credit\.task\)",
        )
        with self.assertRaises(AccessError) as caught:
            credit_task.with_user(self.sales_user).write({"stage": "done"})
        self.assertRegex(
            str(caught.exception),
            r"doesn't have 'write' access to:\n- Credit Collaboration Task \(credit\.task\)",
        )
        with self.assertRaises(AccessError) as caught:
            foreign_sales_task.with_user(self.sales_user).write({"stage": "done"})
        self.assertRegex(
            str(caught.exception),
            r"doesn't have 'write' access to:\n- Credit Collaboration Task \(credit\.task\)",
        )
        sales_task.with_user(self.sales_user).write({"stage": "progress"})
        sales_task.with_user(self.sales_user).action_done()
        self.assertEqual(sales_task.stage, "done")
        with self.assertRaises(AccessError) as caught:
            sales_task.with_user(self.sales_user).unlink()
        self.assertRegex(str(caught.exception), r"You are not allowed to delete 'Credit Collaboration Task'")
        # a salesperson opens a task for the credit team and still sees it
        own = Task.create(
            {
                "name": "Please check this new customer",
                "task_type": "credit_check",
                "partner_id": self.contact.id,
                "team": "credit",
                "user_id": self.credit_manager.id,
            }
        )
        self.assertEqual(own.partner_id, self.customer)
        self.assertTrue(own.with_user(self.sales_user).read(["name"]))
        with self.assertRaises(AccessError) as caught:
            own.with_user(self.sales_user).write({"stage": "done"})
        self.assertRegex(
            str(caught.exception),
            r"doesn't have 'write' access to:\n- Credit Collaboration Task \(credit\.task\)",
        )
        # the credit team sees and works everything
        collector_tasks = self.Task.with_user(self.collector).search(
            [("id", "in", (credit_task | sales_task | foreign_sales_task | own).ids)]
        )
        self.assertEqual(len(collector_tasks), 4)
        credit_task.with_user(self.collector).write({"stage": "progress"})
        # partner smart button: what the user may see
        self.assertEqual(self.customer.with_user(self.collector).credit_task_count, 2)
        self.assertEqual(self.customer.with_user(self.sales_user).credit_task_count, 2, "its own two")
        action = self.customer.with_user(self.sales_user).action_view_credit_tasks()
        self.assertEqual(action["domain"], [("partner_id", "=", self.customer.id)])

    def test_other_company_invisible(self):
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        foreign = self._auto(company=company_2)
        self.assertFalse(self.Task.with_user(self.collector).search([("id", "=", foreign.id)]))

    # --- closing with a linked record --- #
    def test_release_task_closes_with_the_release_only(self):
        self._set_limit(self.customer, 100.0)
        product = self.env["product.product"].create({"name": "Goods", "list_price": 500.0})
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": self.sales_user.id,
                "order_line": [Command.create({"product_id": product.id, "price_unit": 500.0, "tax_id": []})],
            }
        )
        order.with_user(self.sales_user).action_request_credit_release(note="Pays reliably")
        task = self.Task.search([("order_id", "=", order.id)])
        self.assertEqual(
            (task.task_type, task.origin, task.user_id),
            ("release_request", "release_request", self.credit_manager),
        )
        self.assertIn("Pays reliably", str(task.description))
        self.assertTrue(task.with_user(self.sales_user).read(["name"]), "the requester follows the request")
        with self.assertRaisesRegex(UserError, "still waits for a decision"):
            task.with_user(self.credit_manager).action_done()
        with self.assertRaisesRegex(UserError, "still waits for a decision"):
            task.with_user(self.credit_manager).write({"stage": "done"})
        # nor cancelled: the order would stay "Release Requested" without anybody's task
        with self.assertRaisesRegex(UserError, "still waits for a decision"):
            task.with_user(self.collector).action_cancel()
        with self.assertRaisesRegex(UserError, "still waits for a decision"):
            task.with_user(self.credit_manager).write({"stage": "cancel"})
        self.assertEqual((task.stage, order.credit_block_state), ("new", "requested"))
        self.assertEqual(
            order.with_user(self.sales_user).action_request_credit_release(), True, "asking again"
        )
        self.assertEqual(self.Task.search([("order_id", "=", order.id)]), task, "no second task")
        order.with_user(self.credit_manager)._credit_override_confirm("Known customer")
        self.assertEqual(order.state, "sale")
        self.assertEqual(task.stage, "done")
        self.assertIn("Known customer", str(task.message_ids.mapped("body")))

    # --- automatic tasks --- #
    def test_rating_downgrade_opens_a_task(self):
        rating_a = self.env.ref("credit_control.credit_rating_a")
        rating_d = self.env.ref("credit_control.credit_rating_d")
        profile = self.customer.with_company(self.company).with_user(self.credit_manager)
        profile.write({"credit_rating_id": rating_a.id, "credit_rating_source": "manual"})
        self.assertFalse(
            self.Task.search([("partner_id", "=", self.customer.id)]), "a first rating is no downgrade"
        )
        profile.write({"credit_rating_id": rating_d.id})
        task = self.Task.search([("partner_id", "=", self.customer.id), ("origin", "=", "rating_downgrade")])
        self.assertEqual(len(task), 1)
        self.assertEqual((task.task_type, task.team, task.user_id), ("review", "credit", self.credit_manager))
        sales_notice = self.customer.activity_ids.filtered(lambda a: a.user_id == self.sales_user)
        self.assertTrue(sales_notice, "the salesperson is still told")
        profile.write({"credit_rating_id": rating_a.id})
        self.assertEqual(
            self.Task.search_count(
                [("partner_id", "=", self.customer.id), ("origin", "=", "rating_downgrade")]
            ),
            1,
            "an upgrade opens no task",
        )


@tagged("post_install", "-at_install")
class TestCreditTaskTracking(CreditControlCommon):
    @classmethod
    def default_env_context(cls):
        return {}  # tracking on

    def _auto(self):
        return self.env["credit.task"]._create_auto(
            "call", "manual", self.customer, "Call the customer", company=self.company
        )

    def test_stage_changes_are_tracked(self):
        task = self._auto()
        self.env.cr.precommit.run()  # the creation's own tracking
        task.with_user(self.credit_manager).write({"stage": "wait_customer"})
        self.env.cr.precommit.run()
        task.invalidate_recordset()
        tracked = task.message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "stage")
        self.assertTrue(tracked)
        self.assertEqual(tracked[0].new_value_char, "Waiting for Customer")
        task.write({"stage": "cancel"})
        self.assertTrue(task.date_done)
        task.action_reopen()
        self.assertEqual(task.stage, "progress")
        self.assertFalse(task.date_done)
