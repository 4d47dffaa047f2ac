from . import credit_dunning_letter_report
from . import credit_aging_report
from . import credit_aging_xlsx
from . import credit_kpi
from . import credit_forecast
from . import credit_worklist
from . import credit_problem_case
from . import credit_problem_case_xlsx
