import { describe, expect, it } from 'vitest';
import type { TransactionOutcome } from '../../../drivers/modbus/outcome.js';
import { modbusCoilDriver, type CoilWriter } from '../../../agent/safety/outputs/index.js';

class RecordingBus implements CoilWriter {
  readonly requests: Array<{ deviceId: string; request: { fn: 5; address: number; value: boolean } }> = [];
  constructor(private readonly outcome: TransactionOutcome | Error) {}

  write(deviceId: string, request: { fn: 5; address: number; value: boolean }): Promise<TransactionOutcome> {
    this.requests.push({ deviceId, request });
    return this.outcome instanceof Error ? Promise.reject(this.outcome) : Promise.resolve(this.outcome);
  }
}

describe('modbusCoilDriver', () => {
  it('switches the coil with FC05 at its PDU address', async () => {
    const bus = new RecordingBus({ ok: true });
    const driver = modbusCoilDriver(bus, 'tank1-relays', 1, 'coil relay_2 of tank1-relays');
    expect(await driver.write(true)).toEqual({ ok: true });
    expect(await driver.write(false)).toEqual({ ok: true });
    expect(bus.requests).toEqual([
      { deviceId: 'tank1-relays', request: { fn: 5, address: 1, value: true } },
      { deviceId: 'tank1-relays', request: { fn: 5, address: 1, value: false } },
    ]);
    expect(driver.description).toBe('coil relay_2 of tank1-relays');
  });

  it('turns a failed transaction into an error that names the coil', async () => {
    const bus = new RecordingBus({ ok: false, failure: 'exception', detail: 'Modbus exception 2 (illegal data address)', exceptionCode: 2 });
    const driver = modbusCoilDriver(bus, 'tank1-relays', 9, 'coil relay_10 of tank1-relays');
    expect(await driver.write(true)).toEqual({
      ok: false,
      error: 'coil relay_10 of tank1-relays: exception (Modbus exception 2 (illegal data address))',
    });
  });

  it('turns a rejected write into an error instead of a rejection', async () => {
    const driver = modbusCoilDriver(new RecordingBus(new Error('bus stopped')), 'tank1-relays', 0, 'coil relay_1');
    expect(await driver.write(true)).toEqual({ ok: false, error: 'coil relay_1: bus stopped' });
  });
});
