/** Exit codes of every vigil command: scripts and systemd rely on them. */
export const EXIT_OK = 0;
/** Something failed while running (a port that cannot be opened at start, an internal error). */
export const EXIT_RUNTIME_FAILURE = 1;
/** The input was invalid: a config, a profile, a command-line argument. Nothing was changed. */
export const EXIT_INVALID_INPUT = 2;

/** Thrown for bad command-line input; the CLI prints it with the command's usage and exits 2. */
export class UsageError extends Error {}
