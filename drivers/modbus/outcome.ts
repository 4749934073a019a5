import type { ReadFunction } from './rtu.js';

/** One read request as the bus sends it: PDU addresses (0-based), never the manual's numbering. */
export interface ReadBlock {
  fn: ReadFunction;
  address: number;
  count: number;
}

export type TransactionFailure = 'timeout' | 'crc' | 'framing' | 'exception' | 'port-down' | 'breaker-open';

/** What became of one transaction. A bus never throws for a device's misbehaviour: it returns one of these. */
export type TransactionOutcome =
  | { ok: true; registers?: number[]; bits?: boolean[] }
  | { ok: false; failure: TransactionFailure; detail: string; exceptionCode?: number };
