from . import models, reports, wizards


def post_init_hook(env):
    """Companies existing at install get the default dunning levels (the main company has them
    from the data file; companies created later get them in res.company.create)."""
    env["res.company"].with_context(active_test=False).search([])._credit_dunning_create_default_levels()
