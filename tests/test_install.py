from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_groups(self):
        manager = self.env.ref("credit_control.credit_control_group_manager")
        collector = self.env.ref("credit_control.credit_control_group_user")
        self.assertIn(collector, manager.implied_ids)
        self.assertIn(self.env.ref("base.user_admin"), manager.users)
