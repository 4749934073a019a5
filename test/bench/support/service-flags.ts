import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../config/index.js';

/**
 * The Node flags of systemd/vigil.service's ExecStart, read from the unit itself so that the benchmarks measure
 * the agent as it is deployed, and cannot drift from it.
 */
export function serviceNodeFlags(): string[] {
  const unit = readFileSync(join(packageRoot(), 'systemd', 'vigil.service'), 'utf8');
  const exec = /^ExecStart=\S*node((?:\s+--\S+)*)\s/m.exec(unit);
  if (!exec) throw new Error('systemd/vigil.service: no "ExecStart=…node [flags] …" line to read the Node flags from');
  return exec[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}
