"""Plain Python helpers of the module (no models): what several models and reports share and
what has no record of its own. Import them from here, not from a sibling model file.

- :mod:`.open_items`: the "open receivable items of customers" condition, as an ORM domain and
  as a SQL fragment (worklist, KPIs, aging, forecast, problem cases, limitation, exposure, dunning)
- :mod:`.limitation`: end of the regular limitation period (§§195, 199 BGB), in Python and SQL
- :mod:`.protected_fields`: ``default_get`` without defaults for fields only the module writes
- :mod:`.responsible`: the credit manager responsible for a customer
- :mod:`.xlsx`: streamed XLSX workbooks with the module's formats (behind ``credit.xlsx.writer``)
"""
