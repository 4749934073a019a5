/**
 * The durable outbox: every reading batch and event on its way to the platform, kept on disk through outages
 * and power cuts and handed out in seq order until the broker acknowledges it. A segmented append-only log
 * with CRC-checked frames, written by its own thread; see docs/outbox.md for the format and the guarantees.
 */
export { openOutbox, defaultSegmentBytes } from './outbox.js';
export { openCursors, type OutboxCursor, type OutboxCursors } from './cursors.js';
export { SEQ_RESERVE } from './seq-mark.js';
export { DAMAGED_DIR } from './writer.js';
export type {
  Outbox,
  OutboxEvent,
  OutboxEventType,
  OutboxOptions,
  OutboxRecord,
  OutboxStamp,
  OutboxStats,
  OutboxStream,
  OutboxTestHooks,
} from './types.js';
