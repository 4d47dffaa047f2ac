from . import test_install
from . import test_credit_exposure
from . import test_credit_profile
from . import test_credit_scorecard
from . import test_credit_settings
from . import test_credit_responsible
from . import test_tour
from . import test_sale_credit
from . import test_sale_credit_concurrency
from . import test_sale_credit_guard
from . import test_base_rate
from . import test_dunning
from . import test_sale_credit_tour
from . import test_dunning_letter
from . import test_credit_check
from . import test_credit_limit_request
from . import test_credit_aging
from . import test_credit_kpi
from . import test_credit_forecast
from . import test_credit_xlsx
from . import test_credit_reports
from . import test_credit_dashboard
from . import test_credit_collection_target
from . import test_credit_dashboard_tour
from . import test_credit_worklist
from . import test_credit_problem_case
from . import test_collections_tour
from . import test_credit_task
from . import test_credit_escalation
from . import test_credit_agency
from . import test_limitation
from . import test_credit_task_tour
from . import test_credit_promise
from . import test_credit_dispute
from . import test_credit_payment_plan
from . import test_dunning_tour
from . import test_oca_migration  # OCA migration
from . import test_install_live  # install on a live ledger
from . import test_oca_migration  # OCA migration (issue #13)
from . import test_install_live  # install on a live ledger (issue #13)
from . import test_credit_rule_hook
from . import test_view_xmlids
from . import test_screens
