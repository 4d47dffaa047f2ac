from . import account_move_line
from . import credit_rating
from . import res_company
from . import res_config_settings
from . import res_partner
from . import credit_decision
from . import sale_order
