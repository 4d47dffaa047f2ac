from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .collections_common import CollectionsCommon
from .common import CreditControlCommon

INVOICE_PAUSE = "Only the credit team pauses or resumes the dunning of invoices"


@tagged("post_install", "-at_install")
class TestProfileProtectedAtCreation(CreditControlCommon):
    """Rule 1: protected values cannot be set at creation, neither in the values nor through
    ``default_*`` context keys, by anyone who is not a Credit Manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rating_a = cls.env.ref("credit_control.credit_rating_a")
        cls.Partner = cls.env["res.partner"]

    def test_customer_created_with_protected_values_is_refused(self):
        partners = self.Partner.with_user(self.sales_user)
        for vals in (
            {"credit_limit": 1e9},
            {"use_partner_credit_limit": True},
            {"credit_limit_set": True},
            {"credit_hold": True, "credit_hold_reason": "x"},
            {"credit_rating_id": self.rating_a.id, "credit_rating_source": "manual"},
            {"credit_score": 100},
            {"credit_insured_limit": 1e9},
            {"credit_avg_days_late": 0.0},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(AccessError, "Only Credit Managers"):
                partners.create({"name": "Fake Corp", "is_company": True, **vals})
        with self.assertRaisesRegex(AccessError, "Only the credit team pauses"):
            partners.create(
                {"name": "Fake Corp", "credit_dunning_pause": True, "credit_dunning_pause_reason": "x"}
            )
        self.assertFalse(self.Partner.search_count([("name", "=", "Fake Corp")]))

    def test_customer_default_keys_are_ignored(self):
        partner = (
            self.Partner.with_user(self.sales_user)
            .with_context(
                default_credit_limit=1e9,
                default_use_partner_credit_limit=True,
                default_credit_limit_set=True,
                default_credit_rating_id=self.rating_a.id,
                default_credit_rating_source="manual",
                default_credit_score=100,
                default_credit_insured_limit=1e9,
                default_credit_dunning_pause=True,
                default_credit_dunning_pause_reason="never dun",
                default_credit_hold=False,
            )
            .create({"name": "Defaults GmbH", "is_company": True})
            .sudo()
        )
        self.assertEqual(partner.credit_limit, 0.0)
        self.assertFalse(partner.credit_limit_set)
        self.assertFalse(partner.use_partner_credit_limit)
        self.assertFalse(partner.credit_rating_id)
        self.assertFalse(partner.credit_rating_source)
        self.assertEqual(partner.credit_score, 0)
        self.assertEqual(partner.credit_insured_limit, 0.0)
        self.assertFalse(partner.credit_dunning_pause)
        self.assertIsNone(partner._credit_limits_in_force()[partner.id])
        # a Credit Manager's defaults still apply
        managed = (
            self.Partner.with_user(self.credit_manager)
            .with_context(default_credit_hold=True, default_credit_hold_reason="Insolvency")
            .create({"name": "Managed GmbH", "is_company": True})
        )
        self.assertTrue(managed.credit_hold)

    def test_limit_request_created_decided_is_refused(self):
        Request = self.env["credit.limit.request"].with_user(self.sales_user)
        base = {"partner_id": self.customer.id, "amount_requested": 5000.0, "reason": "Big order"}
        for vals in (
            {"state": "approved"},
            {"decided_by_id": self.credit_manager.id},
            {"decision_date": self.today},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(AccessError, "only through their buttons"):
                Request.create({**base, **vals})
        self.assertFalse(
            self.env["credit.limit.request"].search_count([("partner_id", "=", self.customer.id)])
        )
        request = Request.with_context(
            default_state="approved",
            default_decided_by_id=self.credit_manager.id,
            default_decision_date=str(self.today),
            default_amount_approved=1e9,
            default_requested_by_id=self.credit_manager.id,
        ).create(base)
        self.assertEqual(request.state, "draft")
        self.assertFalse(request.decided_by_id)
        self.assertFalse(request.decision_date)
        self.assertEqual(request.amount_approved, 5000.0)
        self.assertEqual(request.requested_by_id, self.sales_user)
        self.assertFalse(self.customer.credit_limit_set)

    def test_credit_check_created_done_is_refused(self):
        Check = self.env["credit.check"].with_user(self.collector)
        base = {"partner_id": self.customer.id, "kind": "bureau", "provider_score": 10.0}
        with self.assertRaisesRegex(AccessError, "only through their buttons"):
            Check.create({**base, "state": "done"})
        with self.assertRaisesRegex(AccessError, "cannot be entered directly"):
            Check.create({**base, "score_normalized": 100})
        self.assertFalse(self.env["credit.check"].search_count([("partner_id", "=", self.customer.id)]))
        check = Check.with_context(
            default_state="done",
            default_decided_by_id=self.credit_manager.id,
            default_decision_date=str(self.today),
            default_score_normalized=100,
        ).create(base)
        self.assertEqual(check.state, "draft")
        self.assertFalse(check.decided_by_id)
        self.assertEqual(check.score_normalized, 10)
        self.assertFalse(self.customer.credit_rating_id)


@tagged("post_install", "-at_install")
class TestCollectionWorkflowFields(CollectionsCommon):
    """Rule 1 for collection documents: state fields change only through their buttons."""

    def _plan_vals(self):
        return {
            "partner_id": self.customer.id,
            "move_ids": [Command.set(self.invoice.ids)],
            "amount_total": 900.0,
            "date_first": self._days(10),
        }

    def test_payment_plan_created_active_is_refused(self):
        Plan = self.Plan.with_user(self.collector)
        with self.assertRaisesRegex(AccessError, "change only through its buttons"):
            Plan.create({**self._plan_vals(), "state": "active"})
        self.assertFalse(self.Plan.search_count([("partner_id", "=", self.customer.id)]))
        plan = Plan.with_context(default_state="active", default_has_missed=True).create(self._plan_vals())
        self.assertEqual(plan.state, "draft")
        self.assertFalse(plan.has_missed)
        with self.assertRaisesRegex(AccessError, "change only through its buttons"):
            plan.write({"state": "active"})
        with self.assertRaisesRegex(AccessError, "change only through its buttons"):
            plan.line_ids[:1].write({"amount_paid": 300.0, "state": "paid"})
        self.assertEqual(plan.state, "draft")
        self.assertFalse(plan.line_ids.filtered("amount_paid"))
        plan.action_activate()
        self.assertEqual(plan.state, "active")

    def test_promise_and_dispute_states(self):
        promise = self.Promise.with_user(self.collector).create(
            {
                "partner_id": self.customer.id,
                "move_ids": [Command.set(self.invoice.ids)],
                "amount": 100.0,
                "date_promised": self._days(5),
            }
        )
        for vals in ({"state": "kept"}, {"date_recorded": self._days(-300)}):
            with (
                self.subTest(vals=vals),
                self.assertRaisesRegex(AccessError, "change only through its buttons"),
            ):
                promise.write(vals)
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.date_recorded, self.today)
        dispute = self.Dispute.with_user(self.sales_user).create(
            {"partner_id": self.customer.id, "move_ids": [Command.set(self.invoice.ids)], "amount": 100.0}
        )
        with self.assertRaisesRegex(AccessError, "change only through its buttons"):
            dispute.write({"state": "resolved"})
        with self.assertRaisesRegex(AccessError, "change only through its buttons"):
            self.Dispute.with_user(self.sales_user).create(
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(self.invoice.ids)],
                    "amount": 50.0,
                    "state": "rejected",
                }
            )
        self.assertEqual(dispute.state, "open")
        dispute.action_start()
        self.assertEqual(dispute.state, "progress")

    def test_dispute_only_on_readable_invoices(self):
        """Rule 4: a salesperson cannot open a dispute on another salesperson's invoice."""
        foreign = self._invoice(500.0, days_ago=10)
        foreign.invoice_user_id = self.other_sales_user
        with self.assertRaisesRegex(AccessError, "invoices you cannot see"):
            self.Dispute.with_user(self.sales_user).create(
                {"partner_id": self.customer.id, "move_ids": [Command.set(foreign.ids)], "amount": 100.0}
            )
        self.assertFalse(self.Dispute.search_count([("move_ids", "in", foreign.ids)]))
        own = self.Dispute.with_user(self.sales_user).create(
            {"partner_id": self.customer.id, "move_ids": [Command.set(self.invoice.ids)], "amount": 100.0}
        )
        with self.assertRaisesRegex(AccessError, "invoices you cannot see"):
            own.write({"move_ids": [Command.link(foreign.id)]})
        self.assertEqual(own.move_ids, self.invoice)


@tagged("post_install", "-at_install")
class TestProfileOnCommercialPartner(CreditControlCommon):
    """Rule 2: the credit profile lives on the commercial partner only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rating_a = cls.env.ref("credit_control.credit_rating_a")
        cls.rating_c = cls.env.ref("credit_control.credit_rating_c")
        cls.other = cls.env["res.partner"].create({"name": "Andere AG", "is_company": True})
        cls.plain = cls.env["res.partner"].create({"name": "Ohne Profil KG", "is_company": True})
        cls.plain_contact = cls.env["res.partner"].create({"name": "Max Plain", "parent_id": cls.plain.id})

    def _profile(self, partner):
        partner = partner.sudo()
        return (
            partner.credit_limit,
            partner.credit_limit_set,
            partner.credit_hold,
            partner.credit_hold_reason,
            partner.credit_rating_id,
        )

    def test_credit_profile_fields_are_not_commercial_fields(self):
        commercial = set(self.env["res.partner"]._commercial_fields())
        self.assertFalse(commercial & {"credit_limit", "credit_hold", "credit_rating_id", "credit_limit_set"})
        self.assertIn("vat", commercial)

    def test_profile_on_a_contact_is_refused(self):
        contact = self.contact.with_user(self.credit_manager)
        for vals in (
            {"credit_limit": 5000.0},
            {"use_partner_credit_limit": True},
            {"credit_hold": True, "credit_hold_reason": "x"},
            {"credit_rating_id": self.rating_a.id},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(UserError, "is a contact of Muster GmbH"):
                contact.write(vals)
        with self.assertRaisesRegex(UserError, "is a contact of Muster GmbH"):
            self.env["res.partner"].with_user(self.credit_manager).create(
                {"name": "Neu", "parent_id": self.customer.id, "credit_hold": True, "credit_hold_reason": "x"}
            )
        self.assertEqual(self._profile(self.contact), (0.0, False, False, False, self.env["credit.rating"]))
        self.assertFalse(self.env["res.partner"].search_count([("name", "=", "Neu")]))

    def test_hierarchy_changes_never_copy_or_clear_a_profile(self):
        self._set_limit(self.customer, 1000.0)
        self.customer.write(
            {"credit_hold": True, "credit_hold_reason": "Insolvency", "credit_rating_id": self.rating_c.id}
        )
        self._set_limit(self.other, 50000.0)
        self.other.credit_rating_id = self.rating_a
        customer_before, other_before = self._profile(self.customer), self._profile(self.other)
        # a new contact does not receive the profile, the company keeps it
        new_contact = self.env["res.partner"].create(
            {"name": "Neue Kontaktperson", "parent_id": self.customer.id}
        )
        self.assertEqual(self._profile(new_contact), (0.0, False, False, False, self.env["credit.rating"]))
        # moving a contact from one company to the other changes no limit, hold or rating
        self.contact.with_user(self.credit_manager).write({"parent_id": self.other.id})
        self.assertEqual(self._profile(self.customer), customer_before)
        self.assertEqual(self._profile(self.other), other_before)
        self.assertEqual(self._profile(self.contact), (0.0, False, False, False, self.env["credit.rating"]))
        self.assertEqual(self.contact.commercial_partner_id, self.other)
        # a company with a profile put under another one keeps its own values (ignored while it
        # is a contact) and the parent's are untouched; back out, it has them again
        self.customer.with_user(self.credit_manager).write({"is_company": False, "parent_id": self.other.id})
        self.assertEqual(self._profile(self.customer), customer_before)
        self.assertEqual(self._profile(self.other), other_before)
        exposure_limit = self.customer._get_credit_exposure()["limit"]
        self.assertEqual(exposure_limit, 50000.0, "a contact is limited by its commercial partner")
        self.customer.with_user(self.credit_manager).write({"is_company": True, "parent_id": False})
        self.assertEqual(self._profile(self.customer), customer_before)
        self.assertEqual(self.customer._get_credit_exposure()["limit"], 1000.0)

    def test_salesperson_cannot_move_a_customer_with_a_profile(self):
        self.customer.write({"credit_hold": True, "credit_hold_reason": "Insolvency"})
        self._set_limit(self.other, 500.0)
        sales = self.env["res.partner"].with_user(self.sales_user)
        for partner, vals in (
            (self.contact, {"parent_id": False}),  # out of its company's hold
            (self.contact, {"is_company": True}),
            (self.contact, {"parent_id": self.plain.id}),
            (
                self.other,
                {"parent_id": self.plain.id, "is_company": False},
            ),  # a limited company under another
        ):
            with (
                self.subTest(partner=partner.name, vals=vals),
                self.assertRaisesRegex(AccessError, "Only Credit Managers may move"),
            ):
                sales.browse(partner.id).write(vals)
        self.assertEqual(self.contact.commercial_partner_id, self.customer)
        self.assertEqual(self.other.commercial_partner_id, self.other)
        # partners without a profile move freely
        sales.browse(self.plain_contact.id).write({"parent_id": self.other.id})
        self.assertEqual(self.plain_contact.commercial_partner_id, self.other)


@tagged("post_install", "-at_install")
class TestDunningPauseCreditTeamOnly(CreditControlCommon):
    """Rule 3: dunning pauses and resumes of customers and invoices: credit team only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = new_test_user(
            cls.env, "cc_billing", groups="account.group_account_invoice", company_id=cls.company.id
        )
        cls.invoice = cls._invoice(300.0, days_ago=20)

    def test_salesperson_cannot_pause_or_resume_a_customer(self):
        customer = self.customer.with_user(self.sales_user)
        with self.assertRaisesRegex(AccessError, "Only the credit team pauses"):
            customer.write({"credit_dunning_pause": True, "credit_dunning_pause_reason": "friend"})
        with self.assertRaisesRegex(AccessError, "Only the credit team pauses or resumes dunning"):
            customer.action_credit_dunning_pause()
        with self.assertRaisesRegex(AccessError, "Only the credit team pauses or resumes dunning"):
            customer._credit_dunning_pause("friend")
        self.assertFalse(self.customer.credit_dunning_pause)
        # the credit team's pause cannot be lifted by sales
        self.customer.with_user(self.collector)._credit_dunning_pause("Insolvency check")
        self.assertTrue(self.customer.credit_dunning_pause)
        with self.assertRaisesRegex(AccessError, "Only the credit team pauses or resumes dunning"):
            customer.action_credit_dunning_resume()
        with self.assertRaisesRegex(AccessError, "Only the credit team pauses"):
            customer.write({"credit_dunning_pause": False})
        self.assertTrue(self.customer.credit_dunning_pause)
        self.customer.with_user(self.collector).action_credit_dunning_resume()
        self.assertFalse(self.customer.credit_dunning_pause)

    def test_invoice_pause_needs_the_credit_team(self):
        invoice = self.invoice.with_user(self.billing_user)
        with self.assertRaisesRegex(AccessError, INVOICE_PAUSE):
            invoice.write({"credit_dunning_pause": True, "credit_dunning_pause_reason": "x"})
        with self.assertRaisesRegex(AccessError, INVOICE_PAUSE):
            invoice.action_credit_dunning_pause()
        self.assertFalse(self.invoice.credit_dunning_pause)
        self.invoice.with_user(self.collector)._credit_dunning_pause("Dispute expected")
        with self.assertRaisesRegex(AccessError, INVOICE_PAUSE):
            invoice.action_credit_dunning_resume()
        self.assertTrue(self.invoice.credit_dunning_pause)
        # a default key does not pause a new invoice
        draft = (
            self.env["account.move"]
            .with_user(self.billing_user)
            .with_context(default_credit_dunning_pause=True, default_credit_dunning_pause_reason="x")
            .create({"move_type": "out_invoice", "partner_id": self.customer.id})
        )
        self.assertFalse(draft.credit_dunning_pause)
        with self.assertRaisesRegex(AccessError, INVOICE_PAUSE):
            self.env["account.move"].with_user(self.billing_user).create(
                {"move_type": "out_invoice", "partner_id": self.customer.id, "credit_dunning_pause": True}
            )


@tagged("post_install", "-at_install")
class TestProfileCopy(CreditControlCommon):
    def test_salesperson_duplicates_a_rated_customer_without_its_profile(self):
        rating = self.env["credit.rating"].search([], limit=1)
        self.customer.write(
            {
                "credit_limit": 5000.0,
                "use_partner_credit_limit": True,
                "credit_rating_id": rating.id,
                "credit_rating_source": "manual",
                "credit_hold": True,
                "credit_hold_reason": "Insolvency rumours",
            }
        )
        duplicate = self.customer.with_user(self.sales_user).copy()
        duplicate = duplicate.sudo()
        self.assertFalse(duplicate.credit_rating_id)
        self.assertFalse(duplicate.credit_hold)
        self.assertFalse(duplicate.use_partner_credit_limit)
        # what the salesperson names explicitly is still guarded
        with self.assertRaises(AccessError) as error:
            self.customer.with_user(self.sales_user).copy({"credit_hold": False, "credit_limit": 9e6})
        self.assertIn("Credit Managers", str(error.exception))
