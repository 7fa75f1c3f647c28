"""Measured availability, the second source beside fetch: health samples of /endpoints and budgeted chat probes."""
