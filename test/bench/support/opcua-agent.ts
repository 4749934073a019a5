import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../../config/index.js';
import type { OpcuaAgentChildOptions, OpcuaAgentChildReady } from '../opcua-agent-child.js';
import { serviceNodeFlags } from './service-flags.js';

/** Always the compiled child (tests run from the sources, benchmarks from dist/). */
const CHILD = join(packageRoot(), 'dist', 'test', 'bench', 'opcua-agent-child.js');

/** Starts an agent in its own process (test/bench/opcua-agent-child.ts), with the service's Node flags, and waits for its ready line. */
export async function startAgentChild(options: OpcuaAgentChildOptions): Promise<{ child: ChildProcess; ready: OpcuaAgentChildReady }> {
  const child = spawn(process.execPath, [...serviceNodeFlags(), CHILD, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await new Promise<OpcuaAgentChildReady>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      // node-opcua prints warnings on stdout: the ready line is the JSON one.
      const line = buffered.split('\n').find((l) => l.startsWith('{"readyMs"'));
      if (line) resolve(JSON.parse(line) as OpcuaAgentChildReady);
    });
    child.once('exit', (code) => reject(new Error(`agent child exited with ${code}: ${stderr.slice(-2000)}`)));
  });
  return { child, ready };
}

export async function stopAgentChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
