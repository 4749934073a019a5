/**
 * Reconnect delays: capped exponential back-off with full jitter. The n-th delay is uniform in
 * [0, min(maxMs, minMs·2ⁿ)], so a fleet of gateways that lost the same broker does not come back in lockstep
 * (MQTT.js #561: a restarted broker stampeded by clients without back-off).
 */
export class ReconnectBackoff {
  private attempt = 0;

  constructor(
    readonly minMs: number,
    readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(minMs > 0) || !(maxMs >= minMs)) throw new Error(`reconnect back-off needs 0 < min <= max (got ${minMs}, ${maxMs})`);
  }

  /** The cap of the next delay, before jitter. */
  nextCap(): number {
    return Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 40));
  }

  next(): number {
    const cap = this.nextCap();
    this.attempt++;
    return Math.floor(this.random() * cap);
  }

  /** After a connection that lasted: the next loss starts again from the shortest delay. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
