"""Exceptions raised when data cannot be read or fetched.

Every message names the file (or URL) and says what is wrong with it.
"""


class NeurolabError(Exception):
    """Base class of neurolab's data errors."""


class NeurolabDataError(NeurolabError, ValueError):
    """A data file is missing, is not what it should be, or holds invalid values."""


class NeurolabFileNotFoundError(NeurolabDataError, FileNotFoundError):
    """A data file does not exist (also a ``FileNotFoundError``)."""


class NeurolabDownloadError(NeurolabError, OSError):
    """A file could not be downloaded (offline, server error, failed verification)."""
