from . import test_install
from . import test_credit_exposure
from . import test_credit_profile
from . import test_tour
from . import test_sale_credit
from . import test_sale_credit_concurrency
from . import test_sale_credit_tour
