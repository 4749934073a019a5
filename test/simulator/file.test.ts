import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadSimulationFile,
  runSimulatorFromFile,
  SimulationFileError,
} from '../../drivers/simulator/index.js';
import { shippedProfiles } from './profiles.js';
import { tcpMaster } from './rtu-master.js';

const profiles = shippedProfiles('gas-module-10reg', 'vw-converter', 'jxbs-3001-gas', 'relay-board-8ch');
const dir = mkdtempSync(join(tmpdir(), 'vigil-simfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(text: string): string {
  const path = join(dir, `sim-${++counter}.yaml`);
  writeFileSync(path, text);
  return path;
}

function problemsOf(path: string): string[] {
  try {
    loadSimulationFile(path, profiles);
  } catch (error) {
    expect(error).toBeInstanceOf(SimulationFileError);
    expect((error as SimulationFileError).message).toContain(path);
    return (error as SimulationFileError).problems;
  }
  throw new Error('expected the file to be rejected');
}

describe('simulation file', () => {
  it('loads devices, scripts, faults and timing, with shorthands', () => {
    const loaded = loadSimulationFile(
      file(`
transport: { tcp: { port: 0 } }
wireTiming: { turnaroundMs: 5 }
seed: 9
devices:
  - unit: 1
    profile: gas-module-10reg
    values:
      concentration: { ramp: { from: 2, to: 30, overMs: 2m } }
      temperature: 18.5
    fault: { kind: slow, delayMs: 300ms }
    faultProbability: 0.1
  - unit: 2
    profile: vw-converter
    values: { frequency: { steps: [[0, 2500], [10s, 2510]] } }
    fault: silent
`),
      profiles,
    );
    expect(loaded.transport).toEqual({ tcp: { host: '127.0.0.1', port: 0 } });
    expect(loaded.seed).toBe(9);
    expect(loaded.wireTiming).toEqual({ line: { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 }, turnaroundMs: 5 });
    expect(loaded.devices).toHaveLength(2);
    const [gas, vw] = loaded.devices;
    expect(gas).toMatchObject({
      unit: 1,
      profile: { id: 'gas-module-10reg' },
      values: { concentration: { ramp: { from: 2, to: 30, overMs: 120_000 } }, temperature: { constant: 18.5 } },
      fault: { kind: 'slow', delayMs: 300 },
      faultProbability: 0.1,
    });
    expect(vw).toMatchObject({ values: { frequency: { steps: [[0, 2500], [10_000, 2510]] } }, fault: { kind: 'silent' } });
  });

  it('gives a serial transport as path + line, and emulates that line by default', () => {
    const loaded = loadSimulationFile(
      file(`
transport: { serial: { path: /dev/ttyUSB9, baud: 19200, parity: even } }
wireTiming: {}
devices: [{ unit: 1, profile: relay-board-8ch }]
`),
      profiles,
    );
    const line = { baud: 19200, dataBits: 8, parity: 'even', stopBits: 1 };
    expect(loaded.transport).toEqual({ serial: { path: '/dev/ttyUSB9', line } });
    expect(loaded.wireTiming).toEqual({ line, turnaroundMs: 0 });
  });

  it('lists every problem at once, each with its line and path', () => {
    const problems = problemsOf(
      file(`transport: { tcp: { port: 0 } }
devices:
  - unit: 1
    profile: gas-modul-10reg
  - unit: 2
    profile: vw-converter
    values:
      frequncy: 2500
      displacement: 1
  - unit: 2
    profile: jxbs-3001-gas
    fault: warm-up
`),
    );
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/^line 4: devices\[0\]\.profile: unknown profile "gas-modul-10reg" \(known: .*gas-module-10reg/);
    expect(problems[1]).toMatch(/^line 8: devices\[1\]\.values\.frequncy: unknown register "frequncy".*frequency/);
    expect(problems[2]).toMatch(/^line 9: devices\[1\]\.values\.displacement: register "displacement" is computed/);
    expect(problems[3]).toMatch(/^line 10: devices\[2\]\.unit: unit 2 is already used by devices\[1\]/);
    expect(problems[4]).toMatch(/^line 12: devices\[2\]\.fault: .*no status register that can say warm-up/);
  });

  it('reports schema errors with their path', () => {
    const problems = problemsOf(
      file(`transport: { tcp: { port: 0 } }
devices:
  - unit: 300
    profile: relay-board-8ch
    values: { input_1: { ramp: { from: 0 } } }
    fault: { kind: melting }
`),
    );
    expect(problems.some((p) => /^line 3: devices\[0\]\.unit:/.test(p))).toBe(true);
    expect(problems.some((p) => /devices\[0\]\.values\.input_1/.test(p))).toBe(true);
    expect(problems.some((p) => /devices\[0\]\.fault/.test(p))).toBe(true);
  });

  it('reports YAML syntax errors and unreadable files', () => {
    expect(problemsOf(file('devices: [unit: 1\n'))[0]).toMatch(/line \d+/);
    expect(problemsOf(join(dir, 'missing.yaml'))[0]).toMatch(/cannot read/);
  });

  it('loads the demo simulation shipped in config/examples', () => {
    const root = join(import.meta.dirname, '..', '..');
    const ids = readdirSync(join(root, 'drivers', 'profiles'))
      .filter((name) => name.endsWith('.yaml'))
      .map((name) => name.slice(0, -'.yaml'.length));
    const loaded = loadSimulationFile(join(root, 'config', 'examples', 'demo', 'simulation.yaml'), shippedProfiles(...ids));
    expect(loaded.devices.length).toBeGreaterThan(0);
  });

  it('runs a simulation file on its transport', async () => {
    const sim = await runSimulatorFromFile(
      file(`
transport: { tcp: { host: 127.0.0.1, port: 0 } }
devices:
  - { unit: 5, profile: jxbs-3001-gas, values: { concentration: 12.3 } }
`),
      profiles,
    );
    try {
      if (sim.endpoint.kind !== 'tcp') throw new Error('tcp');
      const master = await tcpMaster(sim.endpoint.host, sim.endpoint.port);
      expect(await master.readRegisters(5, 6, 1)).toEqual([123]);
      await master.close();
    } finally {
      await sim.close();
    }
  });
});
