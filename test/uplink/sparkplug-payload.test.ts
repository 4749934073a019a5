import { describe, expect, it } from 'vitest';
import { detachedProfileHost, type BirthInfo, type OutgoingMessage, type ProfileHost, type TelemetryDelivery } from '../../agent/uplink/index.js';
import { createSparkplugProfile, DataType, decodePayload, encodePayload, withSeq } from '../../agent/uplink/profiles/sparkplug/index.js';
import { tahuDecode, tahuEncode, tahuRaw } from './sparkplug-support.js';

const T = 1_700_000_000_000;
// 1700000000000 as a base-128 varint, least significant group first: 80 d0 95 ff bc 31.
const T_VARINT = '80d095ffbc31';

const CHANNEL = { id: 'tank1.h2s', deviceId: 'tank1', indicator: 'H2S', unit: 'ppm' };

function profile(host: Partial<ProfileHost> = {}) {
  return createSparkplugProfile(
    { siteId: 'site1', gatewayId: 'gw1', topicPrefix: 'vigil', host: { ...detachedProfileHost(() => ({ ts: T, clock: 'synced' })), ...host } },
    { groupId: 'city', qos: 1 },
    [CHANNEL],
  );
}

function birthInfo(): BirthInfo {
  return {
    ts: T,
    clock: 'synced',
    version: '1.2.3',
    configHash: 'abc123',
    channels: [CHANNEL],
    latest: [{ channelId: 'tank1.h2s', deviceId: 'tank1', value: 12.5, unit: 'ppm', quality: 'good', ts: T, clock: 'synced' }],
  };
}

function reading(value: number | null, extra: Partial<TelemetryDelivery> = {}): TelemetryDelivery {
  return {
    stream: 'telemetry',
    seq: 1,
    ts: T,
    clock: 'synced',
    historical: false,
    reading: { channelId: 'tank1.h2s', deviceId: 'tank1', value, unit: 'ppm', quality: value === null ? 'bad' : 'good', ...(value === null ? { reason: 'timeout' } : {}) },
    ...extra,
  };
}

const hex = (parts: string[]): string => parts.join('').replace(/\s+/g, '');
const list = (m: OutgoingMessage | readonly OutgoingMessage[]): readonly OutgoingMessage[] => (Array.isArray(m) ? m : [m as OutgoingMessage]);

describe('Sparkplug B payload: golden bytes, written field by field', () => {
  it('NDEATH (the will): one metric bdSeq, Int64, value 0; no timestamp, no seq', () => {
    const p = profile();
    const will = p.encodeWill();
    expect(will.topic).toBe('spBv1.0/city/NDEATH/gw1');
    expect(will.retain).toBe(false);
    expect(will.qos).toBe(1);
    const expected = hex([
      '12 0b', //            Payload.metrics (2, length-delimited), 11 bytes
      '0a 05 6264536571', // Metric.name (1) "bdSeq"
      '20 04', //            Metric.datatype (4) = Int64
      '58 00', //            Metric.long_value (11, varint) = 0
    ]);
    expect(will.payload.toString('hex')).toBe(expected);
    // onWire leaves the NDEATH alone: it has no seq.
    expect(p.onWire?.(will).payload.toString('hex')).toBe(expected);
    expect(tahuDecode(will.payload)).toEqual({ metrics: [{ name: 'bdSeq', type: 'Int64', value: 0 }] });
  });

  it('DBIRTH of one channel: value with unit, indicator and quality properties, alarm level (null), acknowledge (false); seq 1', () => {
    const p = profile();
    p.encodeWill();
    const births = list(p.encodeBirth(birthInfo()));
    expect(births.map((m) => m.topic)).toEqual(['spBv1.0/city/NBIRTH/gw1', 'spBv1.0/city/DBIRTH/gw1/tank1']);
    const wired = births.map((m) => p.onWire?.(m) ?? m);
    const dbirth = wired[1];
    const valueMetric = hex([
      '0a 09 74616e6b312e683273', // name "tank1.h2s"
      '10 64', //                    alias 100
      `18 ${T_VARINT}`, //           timestamp
      '20 0a', //                    datatype 10 = Double
      '4a 36', //                    properties (9), PropertySet of 54 bytes:
      '0a 07 656e67556e6974', //       keys: "engUnit"
      '0a 09 696e64696361746f72', //         "indicator"
      '0a 07 5175616c697479', //             "Quality"
      '12 07 080c 42 03 70706d', //    values: {type 12 String, string_value (8) "ppm"}
      '12 07 080c 42 03 483253', //            {type 12 String, "H2S"}
      '12 05 0803 18 c001', //                 {type 3 Int32, int_value (3) 192}
      '69 0000000000002940', //      double_value (13, fixed64) 12.5
    ]);
    const levelMetric = hex([
      '0a 16 416c61726d732f74616e6b312e6832732f4c6576656c', // name "Alarms/tank1.h2s/Level"
      '10 65', //          alias 101
      `18 ${T_VARINT}`, // timestamp
      '20 03', //          datatype 3 = Int32
      '38 01', //          is_null (7) = true: no alarm state known since start
    ]);
    const acknowledgeMetric = hex([
      '0a 1c 416c61726d732f74616e6b312e6832732f41636b6e6f776c65646765', // name "Alarms/tank1.h2s/Acknowledge"
      '10 66', //          alias 102
      `18 ${T_VARINT}`, // timestamp
      '20 0b', //          datatype 11 = Boolean
      '70 00', //          boolean_value (14) = false
    ]);
    expect(valueMetric.length / 2).toBe(0x57);
    expect(levelMetric.length / 2).toBe(0x25);
    expect(acknowledgeMetric.length / 2).toBe(0x2b);
    const expected = hex([`08 ${T_VARINT}`, '12 57', valueMetric, '12 25', levelMetric, '12 2b', acknowledgeMetric, '18 01']);
    expect(dbirth?.payload.toString('hex')).toBe(expected);
    expect(dbirth?.qos).toBe(1);
    expect(dbirth?.retain).toBe(false);

    expect(tahuDecode(dbirth?.payload ?? Buffer.alloc(0))).toEqual({
      timestamp: T,
      seq: 1,
      metrics: [
        {
          name: 'tank1.h2s',
          alias: 100,
          timestamp: T,
          type: 'Double',
          value: 12.5,
          properties: {
            engUnit: { type: 'String', value: 'ppm' },
            indicator: { type: 'String', value: 'H2S' },
            Quality: { type: 'Int32', value: 192 },
          },
        },
        { name: 'Alarms/tank1.h2s/Level', alias: 101, timestamp: T, type: 'Int32', value: null },
        { name: 'Alarms/tank1.h2s/Acknowledge', alias: 102, timestamp: T, type: 'Boolean', value: false },
      ],
    });
  });

  it('NBIRTH: seq 0, bdSeq of the will, Node Control/Rebirth false, node info and the writable command metrics', () => {
    const p = profile();
    p.encodeWill(); // bdSeq 0
    p.encodeWill(); // a second CONNECT attempt: bdSeq 1
    const [nbirth] = list(p.encodeBirth(birthInfo())).map((m) => p.onWire?.(m) ?? m);
    const decoded = tahuDecode(nbirth?.payload ?? Buffer.alloc(0));
    expect(decoded.seq).toBe(0);
    expect(decoded.timestamp).toBe(T);
    expect(decoded.metrics).toEqual([
      { name: 'bdSeq', alias: 1, timestamp: T, type: 'Int64', value: 1 },
      { name: 'Node Control/Rebirth', alias: 2, timestamp: T, type: 'Boolean', value: false },
      { name: 'Node Info/Version', alias: 3, timestamp: T, type: 'String', value: '1.2.3' },
      { name: 'Node Info/Config Hash', alias: 4, timestamp: T, type: 'String', value: 'abc123' },
      { name: 'Node Info/Site', alias: 5, timestamp: T, type: 'String', value: 'site1' },
      { name: 'Events/Last', alias: 6, timestamp: T, type: 'String', value: '' },
      { name: 'Commands/Last Result', alias: 7, timestamp: T, type: 'String', value: '' },
      { name: 'Commands/Force', alias: 8, timestamp: T, type: 'String', value: '' },
      { name: 'Commands/Release', alias: 9, timestamp: T, type: 'String', value: '' },
    ]);
  });

  it('DDATA: alias only (no name, no datatype), timestamp, Quality property, double; seq appended on the wire', () => {
    const p = profile();
    p.encodeWill();
    list(p.encodeBirth(birthInfo())).forEach((m) => p.onWire?.(m)); // seq 0, 1
    const messages = list(p.encodeTelemetry([reading(12.5)]));
    expect(messages.map((m) => m.topic)).toEqual(['spBv1.0/city/DDATA/gw1/tank1']);
    const [ddata] = messages.map((m) => p.onWire?.(m) ?? m);
    const expected = hex([
      `08 ${T_VARINT}`, //              Payload.timestamp (1)
      '12 24', //                       Payload.metrics (2), 36 bytes:
      '10 64', //                         alias 100
      `18 ${T_VARINT}`, //                timestamp
      '4a 10', //                         properties, 16 bytes:
      '0a 07 5175616c697479', //            key "Quality"
      '12 05 0803 18 c001', //              value {Int32, 192}
      '69 0000000000002940', //           double_value 12.5
      '18 02', //                       Payload.seq (3) = 2, appended in onWire
    ]);
    expect(ddata?.payload.toString('hex')).toBe(expected);
    // Tahu's decoder needs the datatype that data messages leave out: read the raw fields, as a host does with its alias table.
    expect(tahuRaw(ddata?.payload ?? Buffer.alloc(0))).toEqual({
      timestamp: T,
      seq: 2,
      metrics: [{ alias: 100, timestamp: T, doubleValue: 12.5, properties: { keys: ['Quality'], values: [{ type: 3, intValue: 192 }] } }],
    });
  });

  it('a replayed reading is marked is_historical and keeps its own timestamp; a bad one is null with quality 0 and its reason', () => {
    const p = profile();
    p.encodeWill();
    p.encodeBirth(birthInfo());
    const [ddata] = list(p.encodeTelemetry([reading(null, { historical: true, ts: T - 60_000 })]));
    const decoded = decodePayload(ddata?.payload ?? Buffer.alloc(0));
    expect(decoded.metrics).toEqual([
      {
        alias: 100,
        timestamp: T - 60_000,
        isHistorical: true,
        isNull: true,
        properties: [
          ['Quality', { type: DataType.Int32, value: 0 }],
          ['qualityReason', { type: DataType.String, value: 'timeout' }],
        ],
      },
    ]);
    expect(tahuRaw(ddata?.payload ?? Buffer.alloc(0)).metrics?.[0]).toMatchObject({ alias: 100, timestamp: T - 60_000, isHistorical: true, isNull: true });
  });
});

describe('Sparkplug B codec against Eclipse Tahu (sparkplug-payload)', () => {
  it('our encoding of every datatype we write decodes with Tahu to the same values', () => {
    const bytes = withSeq(
      encodePayload(
        {
          timestamp: T,
          metrics: [
            { name: 'i32', alias: 1, timestamp: T, datatype: DataType.Int32, value: 2_000_000_000 },
            { name: 'i64', alias: 2, timestamp: T, datatype: DataType.Int64, value: 255 },
            { name: 'u64', alias: 3, datatype: DataType.UInt64, value: 2n ** 40n },
            { name: 'f', alias: 4, datatype: DataType.Float, value: 1.5 },
            { name: 'd', alias: 5, datatype: DataType.Double, value: -3.25 },
            { name: 'b', alias: 6, datatype: DataType.Boolean, value: true },
            { name: 's', alias: 7, datatype: DataType.String, value: 'größe 10 µg/m³' },
            { name: 'dt', alias: 8, datatype: DataType.DateTime, value: T },
            { name: 'n', alias: 9, datatype: DataType.Double, value: null },
          ],
        },
        { datatypes: true },
      ),
      255,
    );
    const decoded = tahuDecode(bytes);
    expect(decoded.seq).toBe(255);
    expect(decoded.metrics.map((m) => [m.name, m.type, m.value])).toEqual([
      ['i32', 'Int32', 2_000_000_000],
      ['i64', 'Int64', 255],
      ['u64', 'UInt64', 2 ** 40],
      ['f', 'Float', 1.5],
      ['d', 'Double', -3.25],
      ['b', 'Boolean', true],
      ['s', 'String', 'größe 10 µg/m³'],
      ['dt', 'DateTime', T],
      ['n', 'Double', null],
    ]);
  });

  it('our decoder reads what Tahu encodes (a host\'s NCMD)', () => {
    const bytes = tahuEncode({
      timestamp: T,
      seq: 3,
      metrics: [
        { name: 'Node Control/Rebirth', type: 'Boolean', value: true },
        { alias: 8, type: 'String', value: 'fan1 on 600' },
        { name: 'x', type: 'Double', value: 2.5 },
        { name: 'y', type: 'Int64', value: 7 },
      ],
    });
    const decoded = decodePayload(bytes);
    expect(decoded.timestamp).toBe(T);
    expect(decoded.seq).toBe(3);
    expect(decoded.metrics).toMatchObject([
      { name: 'Node Control/Rebirth', datatype: DataType.Boolean, valueField: 'boolean', value: true },
      { alias: 8, datatype: DataType.String, valueField: 'string', value: 'fan1 on 600' },
      { name: 'x', datatype: DataType.Double, valueField: 'double', value: 2.5 },
      { name: 'y', datatype: DataType.Int64, valueField: 'long', value: 7n },
    ]);
  });

  it('truncated or garbage bytes are a clear error, never a crash or a read past the end', () => {
    const good = tahuEncode({ timestamp: T, metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] });
    for (let cut = 1; cut < good.length; cut++) {
      try {
        decodePayload(good.subarray(0, cut));
      } catch (error) {
        expect((error as Error).message).toMatch(/truncated|length|wire type|field/);
      }
    }
    expect(() => decodePayload(Buffer.from('{"not":"protobuf"}'))).toThrow();
    expect(() => decodePayload(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(/varint/);
  });
});
