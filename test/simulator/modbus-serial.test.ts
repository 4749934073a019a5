/**
 * Cross-check with an independent master: modbus-serial's connectTelnet speaks raw RTU over TCP, as to a
 * serial device server. If the simulator and rtu.ts shared a framing mistake, this is where it would show.
 */
import modbusSerial from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { shippedProfile, wideTypes } from './profiles.js';

// a CommonJS package: under NodeNext its default import is module.exports, whose `default` is the client class
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

describe('modbus-serial as the master', () => {
  let sim: RunningSimulator;
  let client: ModbusRTU;

  beforeAll(async () => {
    sim = await startTcpSimulator({
      devices: [
        { unit: 1, profile: shippedProfile('gas-module-10reg'), values: { concentration: { constant: 12.5 } } },
        { unit: 2, profile: shippedProfile('relay-board-8ch'), values: { input_1: { constant: 1 }, input_8: { constant: 1 } } },
        { unit: 3, profile: wideTypes, values: { f_abcd: { constant: 1.5 } } },
        { unit: 4, profile: shippedProfile('jxbs-3001-gas') },
      ],
    });
    if (sim.endpoint.kind !== 'tcp') throw new Error('tcp');
    client = new ModbusRTU();
    await client.connectTelnet(sim.endpoint.host, { port: sim.endpoint.port });
    client.setTimeout(1000);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => client.close(() => resolve()));
    await sim.close();
  });

  it('reads the same holding registers', async () => {
    client.setID(1);
    const result = await client.readHoldingRegisters(0, 10);
    expect(result.data).toEqual([0x0400, 125, 200, 500, 1000, 1, 0, 700, 0, 500]);
  });

  it('reads input registers and discrete inputs', async () => {
    client.setID(3);
    const floats = await client.readInputRegisters(0, 2);
    expect(floats.buffer.readFloatBE(0)).toBe(1.5);
    client.setID(2);
    const inputs = await client.readDiscreteInputs(0, 8);
    expect(inputs.data.slice(0, 8)).toEqual([true, false, false, false, false, false, false, true]);
  });

  it('writes coils and registers that the simulator then holds', async () => {
    client.setID(2);
    await client.writeCoil(3, true);
    await client.writeCoils(5, [true, true]);
    expect([3, 5, 6].map((a) => sim.readCoil(2, a))).toEqual([true, true, true]);
    const coils = await client.readCoils(0, 8);
    expect(coils.data.slice(0, 8)).toEqual([false, false, false, true, false, true, true, false]);
    client.setID(4);
    await client.writeRegister(0x101, 5);
    await client.writeRegisters(0x100, [12, 6]);
    expect([sim.readHoldingRegister(4, 0x100), sim.readHoldingRegister(4, 0x101)]).toEqual([12, 6]);
  });

  it('sees the exception a device gives for an illegal address', async () => {
    client.setID(1);
    await expect(client.readHoldingRegisters(0, 11)).rejects.toMatchObject({ modbusCode: 2 });
  });
});
