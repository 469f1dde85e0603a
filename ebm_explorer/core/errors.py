"""Errors that carry a message meant for the user (CLI prints it, GUI shows it)."""


class UserInputError(ValueError):
    """Bad input from the user: a one-line message that names the problem, never a traceback."""


class NumericalError(RuntimeError):
    """A computation produced NaN/inf or diverged; the message says what and where."""
