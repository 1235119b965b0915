"""The model zoo: each model defined once, run on any backend by name."""
from .ca3_cam import ca3_network
from .cuba import cuba, cuba_curr_exp

MODELS = {"cuba": cuba, "cuba-curr-exp": cuba_curr_exp, "ca3-cam": ca3_network}
