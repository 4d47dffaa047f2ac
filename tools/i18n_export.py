"""Write the translation template of credit_control: i18n_export.py CONFIG DATABASE OUTPUT.pot

(odoo-bin --i18n-export does not stop by itself here; the same export through the API does.)
"""

import sys

import odoo
from odoo.modules.registry import Registry
from odoo.tools.translate import trans_export


def main(config, database, output):
    odoo.tools.config.parse_config(["-c", config, "-d", database])
    registry = Registry(database)
    with registry.cursor() as cr, open(output, "wb") as buffer:
        trans_export(False, ["credit_control"], buffer, "po", cr)


if __name__ == "__main__":
    main(*sys.argv[1:4])
