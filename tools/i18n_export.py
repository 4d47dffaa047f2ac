"""Write the translation template of credit_control: i18n_export.py CONFIG DATABASE OUTPUT.pot

(odoo-bin --i18n-export does not stop by itself here; the same export through the API does.)
"""

import sys

import polib

import odoo
from odoo.modules.registry import Registry
from odoo.tools.translate import trans_export


def main(config, database, output):
    odoo.tools.config.parse_config(["-c", config, "-d", database])
    registry = Registry(database)
    with registry.cursor() as cr, open(output, "wb") as buffer:
        trans_export(False, ["credit_control"], buffer, "po", cr)
    drop_local_files(output)


def drop_local_files(path):
    """The export walks the whole module folder, .local/ (virtual environment, clusters) included:
    keep only terms that occur in the module's own files."""
    catalog = polib.pofile(path)
    for entry in list(catalog):
        own = [(file, line) for file, line in entry.occurrences if "/.local/" not in file]
        if entry.occurrences and not own:
            catalog.remove(entry)
        else:
            entry.occurrences = own
    catalog.save(path)


if __name__ == "__main__":
    main(*sys.argv[1:4])
