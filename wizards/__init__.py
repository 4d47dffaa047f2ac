from . import credit_order_block
from . import credit_order_release
