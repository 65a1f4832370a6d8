"""Errors that are the user's to fix: the CLI prints their one-sentence message and exits non-zero."""


class TinykilnError(Exception):
    """A mistake in the user's input (model, board, options); the message is shown as is."""


class ModelError(TinykilnError):
    """The model file is malformed, truncated or of the wrong kind."""


class UnsupportedError(TinykilnError):
    """The model uses an op, option or type that tinykiln does not implement."""
