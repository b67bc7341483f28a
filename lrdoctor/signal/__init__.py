"""Pure numeric helpers over numpy arrays: smoothing, trend, noise, spectra, change points, schedules.

Every function takes arrays and keyword-only parameters and returns arrays or a small frozen
result holding the measured evidence.  Nothing here knows about runs, rules or configuration.
"""
