/** Channels of the reference site the outbox benchmarks model: 50 channels at 1 Hz. */
export const CHANNELS = 50;

/** The recorder's telemetry payload (agent/uplink/recorder.ts) for one gas probe channel. */
export function reading(i: number): Record<string, unknown> {
  const channel = i % CHANNELS;
  return {
    channelId: `tank1.ch${String(channel).padStart(2, '0')}`,
    deviceId: `probe-${Math.floor(channel / 8) + 1}`,
    indicator: `HJ-${1000 + channel}`,
    value: Math.round((20 + 5 * Math.sin(i / 500 + channel) + Math.random()) * 1000) / 1000,
    unit: 'ppm',
    quality: 'good',
  };
}

export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
