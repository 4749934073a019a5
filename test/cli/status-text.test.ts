import { describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../agent/api/index.js';
import { renderDashboard } from '../../agent/cli/live-view.js';
import { renderStatus } from '../../agent/cli/status-text.js';

/** A snapshot as the API serves it: methane at L1, the fan on because of it, the siren forced, a bus with a dead probe. */
function snapshot(): StatusSnapshot {
  return {
    version: 1,
    site: { id: 'tank7', name: 'Tank 7', kind: 'septic-tank' },
    agent: { version: '1.2.3', pid: 42, uptimeS: 3600, memory: { rssBytes: 80 * 1024 * 1024, heapUsedBytes: 21.5 * 1024 * 1024, heapTotalBytes: 24 * 1024 * 1024, externalBytes: 1024 } },
    clock: { wallTs: Date.UTC(2024, 4, 1, 10, 0, 0), iso: '2024-05-01T10:00:00.000Z', synced: false },
    safety: { alive: true, reason: null, lastReadingAgeMs: 300 },
    channels: [
      {
        id: 'tank7.ch4',
        deviceId: 'ch4-probe',
        name: 'Methane',
        value: 27.5,
        unit: '%LEL',
        quality: 'good',
        reason: null,
        detail: null,
        ageMs: 400,
        wallTs: Date.UTC(2024, 4, 1, 9, 59, 59),
        alarm: {
          state: 'L1',
          level: 'L1',
          latched: false,
          acknowledged: false,
          overRange: false,
          fault: false,
          faultReason: null,
          warmUp: false,
          grade: null,
          compared: null,
          displacement: null,
          sinceMs: 12_000,
        },
      },
      {
        id: 'tank7.h2s',
        deviceId: 'h2s-probe',
        name: null,
        value: null,
        unit: 'ppm',
        quality: 'bad',
        reason: 'timeout',
        detail: null,
        ageMs: 1200,
        wallTs: Date.UTC(2024, 4, 1, 9, 59, 58),
        alarm: {
          state: 'fault',
          level: 'normal',
          latched: false,
          acknowledged: false,
          overRange: false,
          fault: true,
          faultReason: '3 failed polls (timeout)',
          warmUp: false,
          grade: null,
          compared: null,
          displacement: null,
          sinceMs: 5000,
        },
      },
      { id: 'tank7.lid', deviceId: 'gpio', name: 'Lid contact', value: null, unit: null, quality: null, reason: null, detail: null, ageMs: null, wallTs: null, alarm: null },
    ],
    outputs: [
      {
        id: 'fan',
        name: 'Ventilation fan',
        kind: 'fan',
        state: 'on',
        cause: 'rule: tank7.ch4 at L1 (27.5 %LEL ≥ 20)',
        ruleWants: true,
        override: null,
        silenced: false,
        feedback: 'ok',
        delivery: 'ok',
        lastWriteError: null,
        interlock: null,
        onForMs: 12_000,
        readback: { channel: 'tank7.fan.running', value: 1, quality: 'good', ageMs: 800 },
      },
      {
        id: 'siren',
        name: null,
        kind: 'sounder',
        state: 'off',
        cause: 'forced off by local:alice, 4 s left',
        ruleWants: false,
        override: { state: 'off', by: 'local:alice', remainingMs: 4000 },
        silenced: false,
        feedback: 'none',
        delivery: 'failed',
        lastWriteError: 'timeout',
        interlock: null,
        onForMs: null,
        readback: null,
      },
    ],
    buses: [
      {
        id: 'rs485-1',
        connected: true,
        transactions: 1234,
        reconnects: 1,
        disconnects: 1,
        noiseBytes: 7,
        queueDepth: 0,
        busyRatio: 0.25,
        saturated: false,
        devices: [
          {
            id: 'h2s-probe',
            unit: 2,
            requests: 100,
            ok: 90,
            timeouts: 10,
            crcErrors: 0,
            framingErrors: 0,
            exceptions: 0,
            retries: 3,
            breaker: { state: 'open', consecutiveFailures: 3, nextTryInMs: 4000 },
            latencyAvgMs: 31.4,
            latencyMaxMs: 80,
            accelerated: false,
            polls: 100,
            overruns: 0,
          },
        ],
      },
    ],
    uplink: { state: 'offline', connects: 3, connectFailures: 5, inflight: 0, replaying: false, historicalPending: 0, commands: { received: 0, done: 0, refused: 0, failed: 0 } },
    buffer: {
      depth: 5120,
      bytes: 2 * 1024 * 1024,
      oldestSeq: 10,
      oldestWallTs: Date.UTC(2024, 4, 1, 8, 0, 0),
      oldestAgeMs: 7_200_000,
      lastSeq: 5130,
      ackedThrough: 9,
      dropped: { telemetry: 2, event: 0 },
      diskFull: false,
      writeError: null,
      committedSeq: 5130,
    },
    recentEvents: [
      {
        type: 'alarm-raised',
        channelId: 'tank7.ch4',
        level: 'L1',
        value: 27.5,
        unit: '%LEL',
        setpoint: 20,
        rule: 'tank7.ch4 ≥ 20 %LEL for 5 s (L1)',
        wallTs: Date.UTC(2024, 4, 1, 9, 59, 48),
        monoTs: 1,
        clockSynced: false,
      },
    ],
  };
}

describe('status text (vigil status and the dashboard): a pure rendering of the snapshot', () => {
  it('shows values with quality, alarm states, outputs and why, buses, uplink, buffer, clock and events', () => {
    const text = renderStatus(snapshot(), { color: false });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^site tank7 \(Tank 7\)\s+clock 2024-05-01T10:00:00Z NOT synchronised .*safety loop alive$/);
    expect(lines.find((l) => l.startsWith('tank7.ch4 '))).toMatch(/^tank7\.ch4\s+27\.50 %LEL\s+0\.4s\s+L1\s+good$/);
    expect(lines.find((l) => l.startsWith('tank7.h2s '))).toMatch(/^tank7\.h2s\s+— ppm\s+1\.2s\s+fault\s+bad \(timeout\)\s+3 failed polls \(timeout\)$/);
    expect(lines.find((l) => l.startsWith('tank7.lid '))).toMatch(/no reading yet$/);
    expect(text).toContain('output fan          ON   rule: tank7.ch4 at L1 (27.5 %LEL ≥ 20)  (feedback ok, relay reads energised)');
    expect(text).toContain('output siren        off  forced off by local:alice, 4 s left  (NOT CONFIRMED, write error: timeout)');
    expect(text).toMatch(/bus rs485-1: connected, 1234 transactions, 1 reconnects, 7 noise bytes, queue 0, busy 25 %/);
    expect(text).toMatch(/h2s-probe\s+unit 2\s+ok 90\/100\s+timeouts 10 .* breaker open/);
    expect(text).toContain('uplink: offline, 3 connect(s), 5 failed');
    expect(text).toContain('buffer: 5120 record(s) waiting (2048 KiB), oldest 2h old, dropped 2 (telemetry 2, events 0)');
    expect(text).toContain('agent 1.2.3, pid 42, up 60m, memory 80.0 MiB resident, heap 21.5 of 24.0 MiB');
    // An agent from before the memory field: the line without it, not a crash.
    const older = snapshot();
    delete older.agent.memory;
    expect(renderStatus(older, { color: false })).toMatch(/^agent 1\.2\.3, pid 42, up 60m$/m);
    expect(text).toMatch(/09:59:48\s+alarm-raised\s+tank7\.ch4: tank7\.ch4 ≥ 20 %LEL for 5 s \(L1\)/);
    expect(text).not.toContain('\x1b[');
  });

  it('colours for a terminal, and the dashboard frame puts a header with the socket above the same text', () => {
    const coloured = renderStatus(snapshot(), { color: true });
    expect(coloured).toContain('\x1b[31m');
    const frame = renderDashboard(snapshot(), { title: 'DEMO Tank 7', color: false, socketPath: '/tmp/d/vigil.sock' });
    expect(frame.split('\n')[0]).toBe('DEMO Tank 7 — 2024-05-01T10:00:00.000Z  (Ctrl-C to stop)   vigil status --socket /tmp/d/vigil.sock');
    expect(frame).toContain(renderStatus(snapshot(), { color: false }));
  });

  it('a stalled safety loop, a down bus and no outbox are said plainly', () => {
    const s = snapshot();
    s.safety = { alive: false, reason: 'no readings for 20 s: the field loop is stalled', lastReadingAgeMs: 20_000 };
    s.buses[0]!.connected = false;
    s.uplink = null;
    s.buffer = null;
    const text = renderStatus(s, { color: false });
    expect(text).toMatch(/safety loop STALLED: no readings for 20 s/);
    expect(text).toMatch(/bus rs485-1: DOWN/);
    expect(text).toContain('uplink: none (no outbox');
    expect(renderStatus(snapshot(), { color: false })).not.toContain('SATURATED');
    s.buses[0]!.saturated = true;
    expect(renderStatus(s, { color: false })).toMatch(/bus rs485-1: DOWN, .* busy 25 %, SATURATED/);
    expect(text).not.toContain('buffer:');
  });
});
