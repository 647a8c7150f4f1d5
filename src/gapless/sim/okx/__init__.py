"""OKX V5 (SPOT, tdMode=cash) skin on the venue-neutral simulator core."""

from .server import OkxSim, create_okx_sim

__all__ = ["OkxSim", "create_okx_sim"]
