import { decodeFrame, decodeSegmentHeader, SEGMENT_HEADER_BYTES, unpackBlock, type SegmentHeader, type StoreState } from './format.js';
import { RangeSet } from './range-set.js';

/** Sparse index spacing: one entry per this many bytes of frames. */
export const SPARSE_EVERY_BYTES = 32 * 1024;

export interface SegmentScan {
  header: SegmentHeader | null;
  /** End of the last valid frame (or of the header). */
  validEnd: number;
  telemetry: RangeSet;
  events: RangeSet;
  lastSeq: number | null;
  sparseSeqs: number[];
  sparseOffsets: number[];
  lastState: StoreState | null;
  /** Why the scan stopped before the end of the bytes; null when every byte was a valid frame. */
  stop: { offset: number; reason: string; kind: 'incomplete' | 'invalid' } | null;
}

/**
 * Walks a segment's frames and checks each CRC; seqs must increase, above `afterSeq`. Never parses payloads.
 */
export function scanSegment(buf: Buffer, afterSeq: number): SegmentScan {
  const header = decodeSegmentHeader(buf);
  const scan: SegmentScan = {
    header,
    validEnd: 0,
    telemetry: new RangeSet(),
    events: new RangeSet(),
    lastSeq: null,
    sparseSeqs: [],
    sparseOffsets: [],
    lastState: null,
    stop: null,
  };
  if (!header) {
    scan.stop = { offset: 0, reason: buf.length < SEGMENT_HEADER_BYTES ? 'short header' : 'bad header', kind: buf.length < SEGMENT_HEADER_BYTES ? 'incomplete' : 'invalid' };
    return scan;
  }
  let at = SEGMENT_HEADER_BYTES;
  let previous = afterSeq;
  let lastIndexed = -Infinity;
  while (at < buf.length) {
    const frame = decodeFrame(buf, at);
    if (frame.kind === 'incomplete' || frame.kind === 'invalid') {
      scan.stop = { offset: at, reason: frame.kind === 'invalid' ? frame.reason : 'incomplete frame', kind: frame.kind };
      break;
    }
    if (frame.kind === 'data') {
      if (!Number.isSafeInteger(frame.seq) || frame.seq <= previous || frame.seq < header.baseSeq) {
        scan.stop = { offset: at, reason: `seq ${frame.seq} out of order after ${previous}`, kind: 'invalid' };
        break;
      }
      previous = frame.seq;
      scan.lastSeq = frame.seq;
      (frame.stream === 'event' ? scan.events : scan.telemetry).add(frame.seq);
      if (at - lastIndexed >= SPARSE_EVERY_BYTES) {
        scan.sparseSeqs.push(frame.seq);
        scan.sparseOffsets.push(at);
        lastIndexed = at;
      }
    } else if (frame.kind === 'block') {
      if (frame.firstSeq <= previous || frame.firstSeq < header.baseSeq) {
        scan.stop = { offset: at, reason: `block from seq ${frame.firstSeq} out of order after ${previous}`, kind: 'invalid' };
        break;
      }
      if (frame.count === frame.lastSeq - frame.firstSeq + 1) {
        // Contiguous (the usual case): the CRC-checked header says it all, no need to unpack.
        scan.telemetry.addRange(frame.firstSeq, frame.lastSeq);
      } else {
        const unpacked = unpackBlock(buf, frame);
        if (!unpacked) {
          scan.stop = { offset: at, reason: 'block does not unpack', kind: 'invalid' };
          break;
        }
        for (const r of unpacked.records) (r.stream === 'event' ? scan.events : scan.telemetry).add(r.seq);
      }
      previous = frame.lastSeq;
      scan.lastSeq = frame.lastSeq;
      if (at - lastIndexed >= SPARSE_EVERY_BYTES) {
        scan.sparseSeqs.push(frame.firstSeq);
        scan.sparseOffsets.push(at);
        lastIndexed = at;
      }
    } else {
      scan.lastState = frame.state;
    }
    at = frame.end;
  }
  scan.validEnd = at;
  if (scan.stop) scan.validEnd = scan.stop.offset;
  return scan;
}
