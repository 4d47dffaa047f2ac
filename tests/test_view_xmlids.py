import importlib.util
from pathlib import Path

from odoo.tests import TransactionCase, tagged

MIGRATION = Path(__file__).parent.parent / "migrations" / "18.0.2.0.0" / "pre-migrate.py"


def _migration():
    spec = importlib.util.spec_from_file_location("credit_control_pre_migrate_18_0_2", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestViewXmlids(TransactionCase):
    def test_inherited_views_do_not_reuse_the_parent_id(self):
        """An inherited view of the module has its own XML id, never its parent's."""
        data = self.env["ir.model.data"].search(
            [("module", "=", "credit_control"), ("model", "=", "ir.ui.view")]
        )
        for xmlid in data:
            parent = self.env["ir.ui.view"].browse(xmlid.res_id).inherit_id
            if parent:
                self.assertNotEqual(xmlid.name, parent.get_external_id()[parent.id].split(".")[-1])

    def test_update_renames_the_old_ids(self):
        """The 18.0.2.0.0 update renames the old ids in place: the same views, no copies."""
        migration = _migration()
        renamed = migration.RENAMED_VIEW_XMLIDS
        views = {new: self.env.ref("credit_control.%s" % new) for new in renamed.values()}
        for old, new in renamed.items():
            self.env.cr.execute(
                "UPDATE ir_model_data SET name = %s WHERE module = 'credit_control' AND name = %s", (old, new)
            )
        self.env["ir.model.data"].invalidate_model()
        self.env.registry.clear_cache()
        migration.migrate(self.env.cr, "18.0.1.0.0")
        self.env["ir.model.data"].invalidate_model()
        self.env.registry.clear_cache()
        for old, new in renamed.items():
            self.assertEqual(self.env.ref("credit_control.%s" % new), views[new])
            self.assertFalse(self.env.ref("credit_control.%s" % old, raise_if_not_found=False))
