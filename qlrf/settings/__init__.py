"""Settings profiles: ``development`` (default of manage.py), ``test`` (pytest) and ``production``."""
