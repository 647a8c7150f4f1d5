"""OKX V5 (SPOT, tdMode=cash) skin on the venue-neutral simulator core."""

from .app import OkxSim, build, create_okx_sim

__all__ = ["OkxSim", "build", "create_okx_sim"]
