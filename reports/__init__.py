from . import credit_dunning_letter_report
