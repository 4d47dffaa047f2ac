from . import credit_order_block
from . import credit_order_release
from . import credit_dunning_run_create
from . import credit_dunning_cancel
from . import credit_dunning_pause
from . import credit_profile_update
from . import credit_aging_open
from . import credit_kpi_month
from . import credit_forecast_period
from . import credit_statement_print
from . import credit_worklist_promise
from . import credit_oca_migration  # OCA migration
from . import credit_oca_migration_levels
from . import credit_oca_migration_history
from . import credit_oca_migration_limits
from . import credit_write_off
from . import credit_bureau_import  # credit bureau import
from . import credit_bureau_import_line
