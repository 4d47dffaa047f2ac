"""18.0.2.0.0: the inherited views' XML ids follow Odoo's convention ``<parent>_inherit_credit_control``
instead of reusing the parent's id. The ids are renamed before the views load, so that the update
rewrites the same views; otherwise each would get a second copy while the old one (removed only at
the end of the update) still changes the parent, and the new copy's xpaths would not find their
place."""

RENAMED_VIEW_XMLIDS = {
    "view_partner_form": "view_partner_form_inherit_credit_control",
    "view_partner_property_form": "view_partner_property_form_inherit_credit_control",
    "view_order_form": "view_order_form_inherit_credit_control",
    "view_sales_order_filter": "view_sales_order_filter_inherit_credit_control",
    "view_move_form": "view_move_form_inherit_credit_control",
    "view_invoice_tree": "view_invoice_tree_inherit_credit_control",
    "res_config_settings_view_form": "res_config_settings_view_form_inherit_credit_control",
}


def rename_view_xmlids(cr):
    for old, new in RENAMED_VIEW_XMLIDS.items():
        cr.execute(
            """
            UPDATE ir_model_data
               SET name = %(new)s
             WHERE module = 'credit_control' AND name = %(old)s AND model = 'ir.ui.view'
               AND NOT EXISTS (SELECT 1 FROM ir_model_data WHERE module = 'credit_control' AND name = %(new)s)
            """,
            {"old": old, "new": new},
        )


def migrate(cr, version):
    if version:
        rename_view_xmlids(cr)
