import type { BufferStatus, ChannelStatus, OutputStatusView, StatusSnapshot } from '../api/index.js';
import type { SafetyEvent } from '../safety/index.js';

/**
 * The status snapshot as text for people: `vigil status` prints it once, the dashboard redraws it. A pure function
 * of the snapshot, so both show exactly what the local API serves.
 */
export interface RenderOptions {
  /** ANSI colours (on a terminal). */
  color: boolean;
  /** How many recent events to show; default 6. */
  events?: number;
}

const paint = (on: boolean, code: number, text: string): string => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

export function formatValue(value: number | null): string {
  if (value === null) return '—';
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  return value.toFixed(digits);
}

export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)}h`;
  return `${Math.round(ms / 86_400_000)}d`;
}

function quality(channel: ChannelStatus, color: boolean): string {
  if (channel.quality === null) return paint(color, 33, 'no reading yet');
  const text = channel.reason ? `${channel.quality} (${channel.reason})` : channel.quality;
  return paint(color, channel.quality === 'good' ? 32 : channel.quality === 'uncertain' ? 33 : 31, text);
}

function alarm(channel: ChannelStatus, color: boolean): string {
  const a = channel.alarm;
  if (!a) return ''.padEnd(14);
  let text: string = a.state;
  if (a.state === 'L1' || a.state === 'L2') text += a.latched ? (a.acknowledged ? ' latched ack' : ' latched') : '';
  if (a.overRange) text += ' over';
  const padded = text.padEnd(14);
  if (a.state === 'ok') return padded;
  return paint(color, a.state === 'warm-up' ? 33 : 31, padded);
}

function channelLine(channel: ChannelStatus, color: boolean): string {
  const age = channel.ageMs === null ? '' : formatDuration(channel.ageMs);
  const detail = channel.alarm?.faultReason ? `  ${channel.alarm.faultReason}` : channel.detail ? `  ${channel.detail}` : '';
  return (
    `${channel.id.padEnd(24)} ${formatValue(channel.value).padStart(10)} ${(channel.unit ?? '').padEnd(7)} ${age.padStart(6)}  ` +
    `${alarm(channel, color)} ${quality(channel, color)}${detail}`
  );
}

function outputLine(output: OutputStatusView, color: boolean): string {
  const state = output.state === 'unknown' ? '—' : output.state === 'on' ? 'ON' : 'off';
  const shown = output.state === 'on' ? paint(color, 1, state.padEnd(4)) : state.padEnd(4);
  const notes: string[] = [];
  if (output.feedback !== 'none') notes.push(`feedback ${output.feedback}`);
  if (output.readback) {
    const v = output.readback.value;
    notes.push(`relay reads ${v === null ? '—' : v ? 'energised' : 'released'}`);
  }
  if (output.delivery === 'failed') notes.push(paint(color, 31, 'NOT CONFIRMED'));
  if (output.lastWriteError) notes.push(`write error: ${output.lastWriteError}`);
  if (output.silenced) notes.push('silenced');
  return `output ${output.id.padEnd(12)} ${shown} ${output.cause}${notes.length > 0 ? `  (${notes.join(', ')})` : ''}`;
}

export function bufferLine(buffer: BufferStatus): string {
  const oldest = buffer.oldestAgeMs === null ? '' : `, oldest ${formatDuration(buffer.oldestAgeMs)} old`;
  const dropped = buffer.dropped.telemetry + buffer.dropped.event;
  const problems = [buffer.diskFull ? 'DISK FULL' : '', buffer.writeError ? `write error: ${buffer.writeError}` : ''].filter((p) => p !== '');
  return (
    `buffer: ${buffer.depth} record(s) waiting (${(buffer.bytes / 1024).toFixed(0)} KiB)${oldest}, ` +
    `dropped ${dropped}${dropped > 0 ? ` (telemetry ${buffer.dropped.telemetry}, events ${buffer.dropped.event})` : ''}` +
    `${problems.length > 0 ? `, ${problems.join(', ')}` : ''}`
  );
}

export function eventLine(event: SafetyEvent): string {
  const subject = event.channelId ?? event.outputId ?? '';
  const time = new Date(event.wallTs).toISOString().slice(11, 19);
  return `${time}  ${event.type.padEnd(22)} ${subject ? `${subject}: ` : ''}${event.rule}${event.cause ? ` — ${event.cause}` : ''}${event.by ? ` (by ${event.by})` : ''}`;
}

const MIB = 1024 * 1024;

function agentLine(agent: StatusSnapshot['agent']): string {
  const m = agent.memory;
  const memory = m
    ? `, memory ${(m.rssBytes / MIB).toFixed(1)} MiB resident, heap ${(m.heapUsedBytes / MIB).toFixed(1)} of ${(m.heapTotalBytes / MIB).toFixed(1)} MiB`
    : '';
  return `agent ${agent.version}, pid ${agent.pid}, up ${formatDuration(agent.uptimeS * 1000)}${memory}`;
}

export function renderStatus(status: StatusSnapshot, options: RenderOptions): string {
  const { color } = options;
  const lines: string[] = [];
  const clock = status.clock.synced ? 'synced' : paint(color, 33, 'NOT synchronised (times may be off)');
  const safety = status.safety.alive ? paint(color, 32, 'alive') : paint(color, 31, `STALLED: ${status.safety.reason ?? ''}`);
  lines.push(`site ${status.site.id} (${status.site.name})   clock ${status.clock.iso.slice(0, 19)}Z ${clock}   safety loop ${safety}`);
  lines.push('');
  lines.push(`${'channel'.padEnd(24)} ${'value'.padStart(10)} ${'unit'.padEnd(7)} ${'age'.padStart(6)}  ${'alarm'.padEnd(14)} quality`);
  for (const channel of status.channels) lines.push(channelLine(channel, color));
  if (status.outputs.length > 0) {
    lines.push('');
    for (const output of status.outputs) lines.push(outputLine(output, color));
  }
  lines.push('');
  for (const bus of status.buses) {
    lines.push(
      `bus ${bus.id}: ${bus.connected ? 'connected' : paint(color, 31, 'DOWN')}, ${bus.transactions} transactions, ${bus.reconnects} reconnects, ` +
        `${bus.noiseBytes} noise bytes, queue ${bus.queueDepth}, busy ${(bus.busyRatio * 100).toFixed(0)} %` +
        (bus.saturated ? `, ${paint(color, 33, 'SATURATED')}` : ''),
    );
    for (const d of bus.devices) {
      lines.push(
        `  ${d.id.padEnd(20)} unit ${String(d.unit).padEnd(3)} ok ${d.ok}/${d.requests}  timeouts ${d.timeouts}  crc ${d.crcErrors}  ` +
          `framing ${d.framingErrors}  exceptions ${d.exceptions}  latency ${d.latencyAvgMs.toFixed(1)} ms  breaker ${d.breaker.state}` +
          `${d.accelerated ? '  accelerated' : ''}`,
      );
    }
  }
  lines.push('');
  if (status.uplink) {
    const u = status.uplink;
    const state = u.state === 'online' ? paint(color, 32, 'online') : u.state === 'disabled' ? 'disabled (no broker configured)' : paint(color, 33, u.state);
    lines.push(`uplink: ${state}, ${u.connects} connect(s), ${u.connectFailures} failed${u.replaying ? `, replaying ${u.historicalPending} old record(s)` : ''}`);
  } else {
    lines.push('uplink: none (no outbox: the agent runs without settings and a data folder)');
  }
  if (status.buffer) lines.push(bufferLine(status.buffer));
  lines.push(agentLine(status.agent));
  const events = status.recentEvents.slice(-(options.events ?? 6));
  if (events.length > 0) {
    lines.push('', 'recent events:');
    for (const event of events) lines.push(`  ${eventLine(event)}`);
  }
  return lines.join('\n');
}
