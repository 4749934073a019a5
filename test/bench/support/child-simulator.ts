import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Starts a simulator script in its own process (a benchmark's slaves must not share the master's event loop)
 * and waits for the first line it prints: `{"port": N}`. stdin stays open for scripts that take commands.
 */
export async function startChildSimulator(script: string, options: unknown): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return { child, port };
}
