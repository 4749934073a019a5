import type { Reading } from '../../drivers/reading.js';
import type { RunningAgent } from '../main/index.js';

export interface LiveViewOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  refreshMs?: number;
  title?: string;
}

function formatValue(reading: Reading): string {
  if (reading.value === null) return '—';
  const abs = Math.abs(reading.value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  return reading.value.toFixed(digits);
}

function formatQuality(reading: Reading, color: boolean): string {
  const text = reading.reason ? `${reading.quality} (${reading.reason})` : reading.quality;
  if (!color) return text;
  const code = reading.quality === 'good' ? 32 : reading.quality === 'uncertain' ? 33 : 31;
  return `\x1b[${code}m${text}\x1b[0m`;
}

/** Renders what the gateway sees as plain text: channels, then buses and devices. */
export function renderSnapshot(agent: RunningAgent, color: boolean): string {
  const now = agent.clock.now();
  const lines: string[] = [];
  const readings = agent.latest.all().sort((a, b) => a.channelId.localeCompare(b.channelId));
  lines.push(`${'channel'.padEnd(24)} ${'value'.padStart(10)} ${'unit'.padEnd(7)} ${'age'.padStart(6)}  ${'alarm'.padEnd(12)} quality`);
  for (const reading of readings) {
    const age = `${((now - reading.monoTs) / 1000).toFixed(1)}s`;
    lines.push(
      `${reading.channelId.padEnd(24)} ${formatValue(reading).padStart(10)} ${reading.unit.padEnd(7)} ${age.padStart(6)}  ${formatAlarm(agent, reading.channelId, color)} ${formatQuality(reading, color)}${reading.detail ? `  ${reading.detail}` : ''}`,
    );
  }
  const outputs = agent.outputs.statuses();
  if (outputs.length > 0) {
    lines.push('');
    for (const output of outputs) {
      const state = output.commanded === null ? '—' : output.commanded ? 'ON' : 'off';
      const shown = color && output.commanded ? `\x1b[1m${state.padEnd(4)}\x1b[0m` : state.padEnd(4);
      lines.push(`output ${output.outputId.padEnd(12)} ${shown} ${output.cause}${output.delivery === 'failed' ? '  (NOT CONFIRMED)' : ''}`);
    }
  }
  lines.push('');
  for (const [id, bus] of agent.buses) {
    const c = bus.counters();
    lines.push(
      `bus ${id}: ${c.connected ? 'connected' : 'DOWN'}, ${c.transactions} transactions, ${c.reconnects} reconnects, ${c.noiseBytes} noise bytes`,
    );
  }
  for (const device of agent.site.devices) {
    const bus = agent.buses.get(device.bus);
    if (!bus) continue;
    const d = bus.deviceCounters(device.id);
    lines.push(
      `  ${device.id.padEnd(20)} unit ${String(device.unit).padEnd(3)} ok ${d.ok}/${d.requests}  timeouts ${d.timeouts}  crc ${d.crcErrors}  ` +
        `framing ${d.framingErrors}  exceptions ${d.exceptions}  latency ${d.latency.avgMs.toFixed(1)} ms  breaker ${d.breaker.state}`,
    );
  }
  const events = agent.events.recent(6);
  if (events.length > 0) {
    lines.push('', 'recent events:');
    for (const event of events) {
      lines.push(`  ${new Date(event.wallTs).toISOString().slice(11, 19)}  ${event.type.padEnd(22)} ${event.rule}${event.cause ? ` — ${event.cause}` : ''}`);
    }
  }
  return lines.join('\n');
}

function formatAlarm(agent: RunningAgent, channelId: string, color: boolean): string {
  const status = agent.alarms.channel(channelId);
  let text = '';
  if (status) {
    if (status.fault) text = 'FAULT';
    else if (status.level !== 'normal') text = status.level + (status.latched ? ' latched' : '');
    else if (status.grade) text = status.grade.toUpperCase();
    else if (status.warmUp) text = 'warm-up';
    else text = 'ok';
  }
  const padded = text.padEnd(12);
  if (!color || text === '' || text === 'ok') return padded;
  return `\x1b[${text === 'warm-up' ? 33 : 31}m${padded}\x1b[0m`;
}

/**
 * Shows the live state until stopped: redrawn in place on a terminal, a snapshot every few seconds
 * otherwise (a log file or a pipe should not fill with escape codes).
 */
export function startLiveView(current: () => RunningAgent | undefined, options: LiveViewOptions): () => void {
  const tty = Boolean(options.out.isTTY);
  const refreshMs = options.refreshMs ?? (tty ? 1000 : 5000);
  const draw = (): void => {
    const agent = current();
    if (!agent) return;
    const body = renderSnapshot(agent, tty);
    const header = `${options.title ?? agent.site.site.name} — ${new Date().toISOString()}  (Ctrl-C to stop)`;
    options.out.write(tty ? `\x1b[H\x1b[2J${header}\n\n${body}\n` : `${header}\n${body}\n\n`);
  };
  const timer = setInterval(draw, refreshMs);
  const first = setTimeout(draw, Math.min(500, refreshMs));
  return () => {
    clearInterval(timer);
    clearTimeout(first);
  };
}
