"""The portal's pages, one module per area; each holds an ``APIRouter`` named ``router``."""
