"""Domain service implementations, found through ``shared.services.registry``."""
