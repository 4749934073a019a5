/** One check of `vigil doctor`: what was looked at, how it stands, and the one thing to do about it. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /**
   * Stable id for scripts: node, settings, config, serial, gpio, clock, disk, data-dir, broker (or, for a site
   * with platforms, broker:<platform id> for each), service.
   */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found, one line (several for a list of problems). */
  detail: string;
  /** The fix, one line; only when not ok. */
  hint?: string;
}

export interface DoctorReport {
  /** False when any check failed. */
  ok: boolean;
  counts: Record<CheckStatus, number>;
  checks: CheckResult[];
}
