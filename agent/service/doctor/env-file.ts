import { readFileSync } from 'node:fs';

/** The service's settings file (systemd/vigil.service: EnvironmentFile=-/etc/vigil/vigil.env). */
export const SERVICE_ENV_FILE = '/etc/vigil/vigil.env';

export type EnvFileResult = { ok: true; vars: Record<string, string> } | { ok: false; error: string };

/**
 * Reads a systemd EnvironmentFile: NAME=value lines, "#" and ";" comments, optional single or double quotes
 * around the value. Enough for the settings file the install script ships; not a shell.
 */
export function readEnvFile(file: string): EnvFileResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, error: (error as NodeJS.ErrnoException).code === 'EACCES' ? `${file}: permission denied` : `${file}: ${(error as Error).message}` };
  }
  const vars: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0]!)) value = value.slice(1, -1);
    vars[match[1]!] = value;
  }
  return { ok: true, vars };
}
