import type { TransactionOutcome } from '../../../drivers/modbus/outcome.js';
import type { OutputDriver } from './types.js';

/** The part of a ModbusBus a coil output needs (ModbusBus fits; writes go ahead of all polls). */
export interface CoilWriter {
  write(deviceId: string, request: { fn: 5; address: number; value: boolean }): Promise<TransactionOutcome>;
}

/** A relay-board coil switched with FC05 (write single coil). `pduAddress` is 0-based, as on the wire. */
export function modbusCoilDriver(bus: CoilWriter, deviceId: string, pduAddress: number, description: string): OutputDriver {
  return {
    description,
    async write(on: boolean) {
      try {
        const outcome = await bus.write(deviceId, { fn: 5, address: pduAddress, value: on });
        if (outcome.ok) return { ok: true };
        return { ok: false, error: `${description}: ${outcome.failure}${outcome.detail ? ` (${outcome.detail})` : ''}` };
      } catch (error) {
        return { ok: false, error: `${description}: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
  };
}
