"""loadsim: capacity planning and load simulation for Genesys ORS session persistence on Redis Cluster."""

__version__ = "0.1.0"
