"""norse, reached through NIR: the network goes out as a NIR graph and comes back as norse modules."""
from .. import Backend, Capabilities, register

register(Backend("norse", "spikemem.backends.norse.simulation:NorseSimulation",
                 Capabilities(dtypes=("float64", "float32"), plasticity=False, poisson_sources=False, signals=False,
                              templates=("LIF", "CubaLIF", "IF", "LI", "IF_curr_exp"),
                              extra="torch"),
                 summary="norse modules built from the network's NIR graph"))
