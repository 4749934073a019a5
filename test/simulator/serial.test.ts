import { afterEach, describe, expect, it } from 'vitest';
import { startSerialSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { shippedProfile } from './profiles.js';
import { serialMaster, type RtuMaster } from './rtu-master.js';

const line = { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;

describe('simulator on a serial port (socat pty pair)', () => {
  let pair: PtyPair | null = null;
  let sim: RunningSimulator | null = null;
  let master: RtuMaster | null = null;

  afterEach(async () => {
    await master?.close();
    await sim?.close();
    await pair?.stop();
    master = sim = pair = null;
  });

  it('serves several units over the serial line', async () => {
    pair = await startPtyPair();
    sim = await startSerialSimulator({
      path: pair.b,
      line,
      devices: [
        { unit: 1, profile: shippedProfile('gas-module-10reg'), values: { concentration: { constant: 4.2 } } },
        { unit: 2, profile: shippedProfile('crack-drawwire-s16'), values: { displacement: { constant: 12.3 } } },
        { unit: 3, profile: shippedProfile('relay-board-8ch') },
      ],
    });
    expect(sim.endpoint).toEqual({ kind: 'serial', path: pair.b });
    master = await serialMaster(pair.a);
    expect(await master.readRegisters(1, 0, 2)).toEqual([0x0400, 42]);
    expect(await master.readRegisters(2, 0, 1)).toEqual([123]);
    expect(await master.request({ unit: 3, fn: 5, address: 7, value: true })).toMatchObject({ kind: 'response' });
    expect(sim.readCoil(3, 7)).toBe(true);
    expect(await master.request({ unit: 4, fn: 3, address: 0, count: 1 }, 200)).toMatchObject({ kind: 'timeout' });
    expect(sim.stats()).toMatchObject({ requests: 4, answered: 3, perUnit: { 1: 1, 2: 1, 3: 1, 4: 1 } });
  });

  it('comes back by itself when the adapter is unplugged and plugged in again', async () => {
    pair = await startPtyPair();
    sim = await startSerialSimulator({ path: pair.b, line, devices: [{ unit: 1, profile: shippedProfile('crack-drawwire-u16') }] });
    master = await serialMaster(pair.a);
    expect(await master.readRegisters(1, 0, 1)).toEqual([0]);
    await master.close();
    await pair.restart();
    master = await serialMaster(pair.a);
    // the simulator reopens its end within ~100 ms; poll rather than guess when
    let result = await master.request({ unit: 1, fn: 3, address: 0, count: 1 }, 200);
    for (let attempt = 0; attempt < 20 && result.kind === 'timeout'; attempt++) {
      result = await master.request({ unit: 1, fn: 3, address: 0, count: 1 }, 200);
    }
    expect(result).toMatchObject({ kind: 'response', response: { registers: [0] } });
  });

  it('fails to start on a path that does not exist', async () => {
    await expect(
      startSerialSimulator({ path: '/nonexistent/tty', line, devices: [{ unit: 1, profile: shippedProfile('crack-drawwire-u16') }] }),
    ).rejects.toThrow();
  });
});
