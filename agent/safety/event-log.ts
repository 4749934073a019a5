import type { Logger } from '../log/index.js';
import type { SafetyEvent, SafetyEventSink } from './events.js';

const WARN_TYPES = new Set(['alarm-raised', 'fault', 'output-failed', 'persistent-exceedance', 'interlock', 'crack-grade']);

/**
 * Keeps the most recent safety events for the status view and passes each one on to the listeners (log,
 * later the outbox). Bounded: a flapping probe cannot grow it.
 */
export class SafetyEventLog {
  private readonly recentEvents: SafetyEvent[] = [];
  private readonly listeners = new Set<SafetyEventSink>();

  constructor(
    private readonly logger: Logger,
    private readonly capacity = 500,
  ) {}

  readonly sink: SafetyEventSink = (event) => {
    this.recentEvents.push(event);
    if (this.recentEvents.length > this.capacity) this.recentEvents.shift();
    const level = WARN_TYPES.has(event.type) ? 'warn' : 'info';
    this.logger[level]({ event }, `${event.type}: ${event.rule}${event.cause ? ` (${event.cause})` : ''}`);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error }, 'safety event listener failed');
      }
    }
  };

  subscribe(listener: SafetyEventSink): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  recent(limit = 50): SafetyEvent[] {
    return this.recentEvents.slice(-limit);
  }
}
