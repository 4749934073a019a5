import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled CLI, as a gateway runs it (npm test builds first). */
export const CLI = fileURLToPath(new URL('../../dist/agent/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `vigil ARGS…` to completion (or until `killAfterMs`, then SIGINT) and captures its output. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; killAfterMs?: number; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const interrupt = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGINT'), options.killAfterMs);
    const hardStop = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(interrupt);
      clearTimeout(hardStop);
      resolve({ code, stdout, stderr });
    });
  });
}
