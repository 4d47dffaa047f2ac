"""The credit manager responsible for a customer."""


def responsible_credit_manager(env, partner, company, *fallbacks):
    """The user who should act on a customer's credit profile in ``company``: the customer's
    credit manager, else the first active one of ``fallbacks``, else any Credit Manager of the
    company (lowest id, so the choice is stable)."""
    # sudo: the caller may be a salesperson or the scheduler; only the user is looked up
    manager = partner.with_company(company).sudo().credit_manager_id
    for user in (manager, *fallbacks):
        if user and user.active and not user.share and company in user.company_ids:
            return user
    group = env.ref("credit_control.credit_control_group_manager")
    return (
        env["res.users"]
        .sudo()
        .search(
            [("groups_id", "in", group.ids), ("company_ids", "in", company.ids), ("share", "=", False)],
            order="id",
            limit=1,
        )
    )
