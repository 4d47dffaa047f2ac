"""Fields that only the module's own code writes (behind a server-side sentinel): what the
models guarding them share."""


def drop_protected_defaults(records, values, protected, privileged):
    """``default_get`` helper: a ``default_*`` context key or a personal default (ir.default)
    must not pre-set a protected field for an unprivileged user. The field's own default (a
    draft state, no approver...) is kept; any other default of a protected field is dropped."""
    if privileged or records.env.su:
        return values
    for name in protected.intersection(values):
        field = records._fields[name]
        if field.default and not field.company_dependent:
            value = field.convert_to_cache(field.default(records), records, validate=False)
            values[name] = field.convert_to_write(value, records)
        else:
            del values[name]
    return values
