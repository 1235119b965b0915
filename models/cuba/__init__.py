"""Brian2's CUBA benchmark network, and the same network written with IF_curr_exp."""
from spikemem.zoo import Model, register_model

register_model(Model("cuba", "spikemem.models.cuba.network:cuba", benchmark=True,
                     sweep="spikemem.models.cuba.experiments:activity",
                     summary="Brian2's CUBA benchmark: 4000 LIF neurons, 80/20 E/I, p = 0.02"))
register_model(Model("cuba-curr-exp", "spikemem.models.cuba.network:cuba_curr_exp",
                     summary="CUBA written with the IF_curr_exp template, for hardware targets"))
