import type { CheckStatus, DoctorReport } from './types.js';

const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };
const COLOR: Record<CheckStatus, string> = { ok: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m', skip: '\x1b[2m' };
const RESET = '\x1b[0m';

/** The report for a person at a terminal: one line per check, its details indented, the fix after "fix:". */
export function formatReport(report: DoctorReport, options: { color: boolean }): string {
  const paint = (status: CheckStatus, text: string): string => (options.color ? `${COLOR[status]}${text}${RESET}` : text);
  const width = Math.max(...report.checks.map((c) => c.title.length));
  const lines: string[] = [];
  for (const check of report.checks) {
    const [first = '', ...rest] = check.detail.split('\n');
    lines.push(`${paint(check.status, `${MARK[check.status]} ${check.title.padEnd(width)}`)}  ${first}`);
    for (const line of rest) lines.push(`  ${' '.repeat(width)}  ${line}`);
    if (check.hint) lines.push(`  ${' '.repeat(width)}  ${paint(check.status, 'fix:')} ${check.hint}`);
  }
  const { ok, warn, fail, skip } = report.counts;
  lines.push('', `${ok} ok, ${warn} warning(s), ${fail} failed${skip > 0 ? `, ${skip} skipped` : ''}`);
  return lines.join('\n') + '\n';
}
