"""One exception family; every message names the file, rule or key it is about."""


class LrDoctorError(Exception):
    """Base class: lrdoctor could not do what was asked.  The message is shown as is."""


class ReadError(LrDoctorError):
    """A log file or directory could not be read at all."""


class ConfigError(LrDoctorError):
    """The configuration (file or flags) is invalid."""
