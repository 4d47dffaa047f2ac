{
    "name": "Credit Control",
    "summary": "Credit limits, credit checks, risk ratings, exposure and receivables "
    "management (Forderungsmanagement)",
    "version": "18.0.1.0.0",
    "development_status": "Beta",
    "category": "Accounting",
    "website": "https://github.com/credit-control/credit_control",
    "author": "Credit Control contributors",
    "license": "LGPL-3",
    "application": True,
    "installable": True,
    "external_dependencies": {"python": ["python-stdnum", "xlsxwriter"]},
    "depends": ["account", "sale", "mail"],
    "data": [
        "security/credit_control_groups.xml",
        "security/ir.model.access.csv",
        "security/credit_control_security.xml",
        "data/credit_rating_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        # root and section menus first: every views file hangs its own menus below them
        "views/credit_control_menus.xml",
        "views/res_partner_views.xml",
        "views/credit_rating_views.xml",
        "views/res_config_settings_views.xml",
        "views/credit_decision_views.xml",
        "views/sale_order_views.xml",
        "wizards/credit_order_block_views.xml",
        "wizards/credit_order_release_views.xml",
    ],
    "demo": [
        "demo/credit_control_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "credit_control/static/tests/tours/**/*",
        ],
    },
}
