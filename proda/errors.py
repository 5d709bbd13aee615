"""One exception base, mapped to the documented exit codes.

Exit codes (CONTRACT.md):
  0  success
  1  a stage failed                                  -> StageError
  2  usage, config or input error (message says what to fix) -> UsageError, DamagedError
  3  another build holds the project lock, or the run was interrupted -> LockError, Interrupted
"""


class ProdaError(Exception):
    """Base of every error shown to users without a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class StageError(ProdaError):
    exit_code = 1


class UsageError(ProdaError):
    exit_code = 2


class LockError(ProdaError):
    exit_code = 3


class Interrupted(LockError):
    """Ctrl-C: finished work is kept (exit code 3)."""


class DamagedError(ProdaError):
    """Derived state under build/ that does not verify and cannot be repaired by this command."""

    exit_code = 2
