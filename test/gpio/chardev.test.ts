import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGpioBackend, type GpioBackend } from '../../drivers/gpio/index.js';

// The character-device backend against stand-in libgpiod tools (test/gpio/support/fake-libgpiod.mjs) that speak
// each dialect's arguments and output formats and keep their lines "held" in files. This machine has no GPIO:
// these tests prove the process handling and the dialects, not the kernel.

const FAKE_TOOLS = fileURLToPath(new URL('./support/fake-libgpiod.mjs', import.meta.url));
const TOOLS = ['gpiodetect', 'gpioinfo', 'gpioget', 'gpioset', 'gpiomon'];
const WAIT = { timeout: 10_000, interval: 20 };

interface FakeWorld {
  toolsDir: string;
  world: string;
  setWire(offset: number, high: boolean): Promise<void>;
  held(offset: number): { tool: string; consumer: string; direction: string; value?: number; pid: number } | undefined;
  log(): Promise<string[]>;
}

let temp: string;
let backends: GpioBackend[] = [];

beforeEach(async () => {
  temp = await mkdtemp(join(tmpdir(), 'vigil-chardev-'));
});

afterEach(async () => {
  await Promise.all(backends.map((backend) => backend.close()));
  backends = [];
  await rm(temp, { recursive: true, force: true });
});

async function fakeWorld(version: string): Promise<FakeWorld> {
  const world = join(temp, `world-${version}`);
  const toolsDir = join(temp, `bin-${version}`);
  await mkdir(world, { recursive: true });
  await mkdir(toolsDir, { recursive: true });
  const chips = [
    { name: 'gpiochip0', label: 'pinctrl-bcm2711', lineNames: Array.from({ length: 58 }, (_, offset) => `GPIO${offset}`) },
    { name: 'gpiochip1', label: 'raspberrypi-exp-gpio', lineNames: ['BT_ON', 'WL_ON', 'PWR_LED_OFF', null, null, null, null, null] },
  ];
  await writeFile(join(world, 'config.json'), JSON.stringify({ version, chips }));
  for (const tool of TOOLS) {
    const path = join(toolsDir, tool);
    await writeFile(path, `#!/bin/sh\nexec "${process.execPath}" "${FAKE_TOOLS}" ${tool} "${world}" "$@"\n`);
    await chmod(path, 0o755);
  }
  const heldPath = (offset: number): string => join(world, `held-gpiochip0-${offset}`);
  return {
    toolsDir,
    world,
    setWire: (offset, high) => writeFile(join(world, `wire-gpiochip0-${offset}`), high ? '1' : '0'),
    held: (offset) => {
      if (!existsSync(heldPath(offset))) return undefined;
      try {
        return JSON.parse(readFileSync(heldPath(offset), 'utf8'));
      } catch {
        return undefined; // released between the check and the read
      }
    },
    log: async () => (existsSync(join(world, 'log')) ? (await readFile(join(world, 'log'), 'utf8')).trim().split('\n') : []),
  };
}

async function chardev(fake: FakeWorld): Promise<GpioBackend> {
  const backend = await createGpioBackend('chardev', { gpiodToolsDir: fake.toolsDir });
  backends.push(backend);
  return backend;
}

describe.each([
  ['v1 (Bookworm)', '1.6.3', 'gpioset'],
  ['v2 (Trixie)', '2.2.1', 'vigil'],
])('chardev backend with libgpiod %s tools', (_name, version, outputConsumer) => {
  it('finds chips by label and lines by name from gpiodetect and gpioinfo', async () => {
    const fake = await fakeWorld(version);
    const backend = await chardev(fake);
    expect(backend.kind).toBe('chardev');
    expect(backend.description).toContain(`libgpiod v${version}`);
    await expect(backend.resolve({ line: 'GPIO17', activeLow: false })).resolves.toMatchObject({ chipName: 'gpiochip0', offset: 17 });
    await expect(backend.resolve({ chip: 'raspberrypi-exp-gpio', line: 'PWR_LED_OFF', activeLow: false })).resolves.toMatchObject({
      chipName: 'gpiochip1',
      offset: 2,
    });
  });

  it('holds an output with a running gpioset, and a new level restarts it', async () => {
    const fake = await fakeWorld(version);
    const backend = await chardev(fake);
    const relay = await backend.openOutput({ line: 'GPIO17', activeLow: false }, true);
    expect(fake.held(17)).toMatchObject({ tool: 'gpioset', consumer: outputConsumer, direction: 'output', value: 1 });
    const firstPid = fake.held(17)!.pid;

    await relay.write(false);
    expect(relay.read()).toBe(false);
    expect(fake.held(17)).toMatchObject({ value: 0 });
    expect(fake.held(17)!.pid).not.toBe(firstPid);
    expect(relay.failure()).toBeNull();

    await relay.write(false); // same level: nothing to restart
    const log = await fake.log();
    expect(log.filter((line) => line.startsWith('gpioset '))).toHaveLength(2);
    expect(log).toContain(`released gpioset gpiochip0 17 pid ${firstPid}`);
  });

  it('inverts activeLow outputs on the wire', async () => {
    const fake = await fakeWorld(version);
    const backend = await chardev(fake);
    await backend.openOutput({ chip: 'pinctrl-bcm2711', line: 22, activeLow: true }, true);
    expect(fake.held(22)).toMatchObject({ value: 0 });
  });

  it('releases the line when the output is released (released = not driven)', async () => {
    const fake = await fakeWorld(version);
    const backend = await chardev(fake);
    const relay = await backend.openOutput({ line: 'GPIO17', activeLow: false }, true);
    await relay.release();
    expect(fake.held(17)).toBeUndefined();
    await expect(relay.write(true)).rejects.toThrow(/released/);
  });

  it('fails to open a busy line with the tool\'s own message', async () => {
    const fake = await fakeWorld(version);
    const backend = await chardev(fake);
    await backend.openOutput({ line: 'GPIO17', activeLow: false }, true);
    await expect(backend.openInput({ line: 'GPIO17', activeLow: false }, { debounceMs: 0 })).rejects.toThrow(/Device or resource busy/);
  });

  it('reads an input from gpioget, then follows its edges from gpiomon, debounced', async () => {
    const fake = await fakeWorld(version);
    await fake.setWire(27, true);
    const backend = await chardev(fake);
    const contact = await backend.openInput({ line: 'GPIO27', activeLow: false }, { debounceMs: 30 });
    expect(contact.read()).toBe(true);
    expect(fake.held(27)).toMatchObject({ tool: 'gpiomon', direction: 'input' });
    const changes: boolean[] = [];
    contact.onChange((on) => changes.push(on));

    await fake.setWire(27, false);
    await vi.waitFor(() => expect(changes).toEqual([false]), WAIT);
    await fake.setWire(27, true);
    await vi.waitFor(() => expect(changes).toEqual([false, true]), WAIT);
    expect(contact.edges()).toBe(1);
    expect(contact.read()).toBe(true);
  });

  it('requests the bias the site asks for, in the dialect of the tools', async () => {
    const fake = await fakeWorld(version);
    const backend = await chardev(fake);
    await backend.openInput({ line: 'GPIO27', activeLow: true }, { debounceMs: 0, bias: 'pull-up' });
    expect(fake.held(27)).toMatchObject({ tool: 'gpiomon', bias: 'pull-up' });
    await backend.openInput({ line: 5, activeLow: false }, { debounceMs: 0, bias: 'disabled' });
    expect(fake.held(5)).toMatchObject({ bias: version.startsWith('1.') ? 'disable' : 'disabled' });
  });

  it('reads activeLow inputs inverted', async () => {
    const fake = await fakeWorld(version);
    await fake.setWire(5, false);
    const backend = await chardev(fake);
    const lid = await backend.openInput({ line: 5, activeLow: true }, { debounceMs: 0 });
    expect(lid.read()).toBe(true);
    await fake.setWire(5, true);
    await vi.waitFor(() => expect(lid.read()).toBe(false), WAIT);
  });

  it('reports a monitor that died, and close() releases every line', async () => {
    const fake = await fakeWorld(version);
    const backend = await chardev(fake);
    const contact = await backend.openInput({ line: 'GPIO6', activeLow: false }, { debounceMs: 0 });
    await backend.openOutput({ line: 'GPIO17', activeLow: false }, true);
    process.kill(fake.held(6)!.pid, 'SIGKILL');
    await vi.waitFor(() => expect(contact.failure()).toMatch(/gpiomon was ended by SIGKILL; changes of GPIO6 .* are no longer seen/), WAIT);
    await backend.close();
    expect(fake.held(17)).toBeUndefined();
  });
});

describe('chardev backend when the agent dies', () => {
  it('releases the lines its tools held: the kernel ends them with the agent', async () => {
    const fake = await fakeWorld('2.2.1');
    const compiled = await compileGpioDriver(join(temp, 'compiled'));
    const agentScript = join(compiled, 'agent-that-dies.mjs');
    await writeFile(
      agentScript,
      `import { createChardevBackend } from './chardev-backend.js';
const backend = await createChardevBackend({ toolsDir: ${JSON.stringify(fake.toolsDir)} });
await backend.openOutput({ line: 'GPIO17', activeLow: false }, true);
await backend.openInput({ line: 'GPIO27', activeLow: false }, { debounceMs: 0 });
console.log('holding');
setInterval(() => {}, 1 << 30);
`,
    );
    const agent = spawn(process.execPath, [agentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        agent.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('holding') && resolve());
        agent.once('exit', (code) => reject(new Error(`the test agent exited early (${code})`)));
      });
      expect(fake.held(17)).toMatchObject({ value: 1 });
      expect(fake.held(27)).toMatchObject({ tool: 'gpiomon' });

      agent.kill('SIGKILL'); // no cleanup code of ours runs
      await vi.waitFor(() => {
        expect(fake.held(17)).toBeUndefined();
        expect(fake.held(27)).toBeUndefined();
      }, WAIT);
      const log = await fake.log();
      expect(log.some((line) => line.startsWith('released gpioset gpiochip0 17'))).toBe(true);
    } finally {
      agent.kill('SIGKILL');
      // Should the kernel not have ended them, end the stand-in tools here rather than leave them running.
      for (const offset of [17, 27]) {
        const pid = fake.held(offset)?.pid;
        try {
          if (pid) process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
  });
});

/** Plain JS copies of drivers/gpio for a separate node process (Node 20 cannot run TypeScript itself). */
async function compileGpioDriver(outDir: string): Promise<string> {
  const sourceDir = fileURLToPath(new URL('../../drivers/gpio/', import.meta.url));
  await mkdir(outDir, { recursive: true });
  for (const file of await readdir(sourceDir)) {
    if (!file.endsWith('.ts')) continue;
    const source = await readFile(join(sourceDir, file), 'utf8');
    const output = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    await writeFile(join(outDir, file.replace(/\.ts$/, '.js')), output.outputText);
  }
  return outDir;
}
