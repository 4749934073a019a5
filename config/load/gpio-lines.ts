import type { PathSegment } from './config-error.js';
import { fieldsOf, numberField, textField } from './lenient.js';
import type { Reporter } from './site-index.js';

/**
 * GPIO lines claimed by inputs and outputs. A line is named by chip + offset or by line name; two claims on
 * one line would have an input read a relay coil or two rules fight over one relay.
 */

interface Claim {
  chip: string | undefined;
  line: number | string;
  owner: string;
  path: PathSegment[];
}

export class GpioLineClaims {
  private readonly claims: Claim[] = [];

  constructor(private readonly report: Reporter) {}

  /** Records the line at `path` (a gpioLine mapping) for `owner`, or reports who has it already. */
  claim(raw: unknown, owner: string, path: PathSegment[]): void {
    const fields = fieldsOf(raw);
    const line = numberField(fields, 'line') ?? textField(fields, 'line');
    if (line === undefined) return;
    const chip = textField(fields, 'chip');
    const first = this.claims.find((other) => sameLine(other, chip, line));
    if (!first) {
      this.claims.push({ chip, line, owner, path });
      return;
    }
    const named = typeof line === 'string' ? `GPIO line "${line}"` : `GPIO line ${line}${chip ? ` of ${chip}` : ''}`;
    const unsure = typeof line === 'number' && first.chip !== chip;
    this.report.error(
      [...path, 'line'],
      `${named} is already used by ${first.owner}`,
      unsure
        ? `first at line ${this.report.lineOf(first.path)}; if they are on different chips, name the chip on both`
        : `first at line ${this.report.lineOf(first.path)}; one input or output per line`,
    );
  }
}

/** Line names are unique on a gateway; an offset is the same line when the chips match or one is not named. */
function sameLine(claim: Claim, chip: string | undefined, line: number | string): boolean {
  if (claim.line !== line) return false;
  if (typeof line === 'string') return true;
  return claim.chip === undefined || chip === undefined || claim.chip === chip;
}
