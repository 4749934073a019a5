/**
 * Capped exponential back-off with full jitter: the n-th delay is uniform in [0, min(max, min·2ⁿ)]. Jitter keeps
 * a fleet of gateways (or several buses on one device server) from reconnecting in lockstep.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(minMs > 0) || !(maxMs >= minMs)) throw new Error(`back-off needs 0 < min <= max (got ${minMs}, ${maxMs})`);
  }

  next(): number {
    const cap = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(this.random() * cap);
  }

  reset(): void {
    this.attempt = 0;
  }
}
