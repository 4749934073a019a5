import { randomBytes } from 'node:crypto';
import {
  DataType,
  DataValue,
  HistoryData,
  HistoryReadResult,
  isMinDate,
  StatusCodes,
  Variant,
  type ISessionContext,
  type ReadRawModifiedDetails,
  type UAVariable,
} from 'node-opcua';
import type { HistoryCursor, HistoryPoint, HistoryStore } from '../history/index.js';
import { readingStatus } from './status-map.js';

/**
 * HistoryRead (raw) of a channel, page by page from the history store, so that a client reading a long range
 * of a busy channel never makes the safety process hold more than one page: node-opcua's own raw read asks the
 * historian for the whole range and keeps what it does not send in the session. Here a page is at most the
 * client's numValuesPerNode and never above MAX_VALUES_PER_READ; when more is left, the result is
 * Good_MoreData with a continuation point, behind which only the place to resume is kept.
 */

/** Values per node per HistoryRead call at most, whatever the client asks (0 included). */
export const MAX_VALUES_PER_READ = 10_000;
/** Continuation points kept per session; a new one pushes out the oldest (OPC UA allows freeing them). */
const MAX_CONTINUATIONS_PER_SESSION = 16;

interface Continuation {
  channelId: string;
  from: number;
  to: number;
  newestFirst: boolean;
  limit: number;
  after: HistoryCursor;
}

interface ContinuationRequest {
  continuationPoint?: Buffer | null;
  releaseContinuationPoints?: boolean;
}

type ResultCallback = (error: Error | null, result?: HistoryReadResult) => void;

/** node-opcua's hook for raw reads of one variable (set by installHistoricalDataNode; replaced here). */
interface RawReadHook {
  _historyReadRaw(
    context: ISessionContext,
    details: ReadRawModifiedDetails,
    indexRange: unknown,
    dataEncoding: unknown,
    continuation: ContinuationRequest,
    callback: ResultCallback,
  ): void;
}

const status = (name: string) => (StatusCodes as unknown as Record<string, typeof StatusCodes.Good>)[name] ?? StatusCodes.Bad;

export function historyDataValue(point: HistoryPoint): DataValue {
  return new DataValue({
    value: point.value === null ? new Variant({ dataType: DataType.Null }) : new Variant({ dataType: DataType.Double, value: point.value }),
    statusCode: status(readingStatus(point.quality, point.reason)),
    sourceTimestamp: new Date(point.wallTs),
    serverTimestamp: new Date(),
  });
}

/** Per session (weakly: a closed session takes its continuations with it). */
const continuationsOf = new WeakMap<object, Map<string, Continuation>>();

function continuations(context: ISessionContext): Map<string, Continuation> | undefined {
  const session = context.session as object | undefined;
  if (!session) return undefined;
  let map = continuationsOf.get(session);
  if (!map) {
    map = new Map();
    continuationsOf.set(session, map);
  }
  return map;
}

const outcome = (statusCode: typeof StatusCodes.Good, dataValues: DataValue[] = [], continuationPoint?: Buffer): HistoryReadResult =>
  new HistoryReadResult({ statusCode, historyData: new HistoryData({ dataValues }), ...(continuationPoint ? { continuationPoint } : {}) });

/** The request's range and direction, as OPC UA Part 11 (6.4.3.2) reads startTime, endTime and numValuesPerNode. */
function domainOf(details: ReadRawModifiedDetails): Omit<Continuation, 'channelId' | 'after'> | undefined {
  const start = details.startTime && !isMinDate(details.startTime) ? details.startTime.getTime() : undefined;
  const end = details.endTime && !isMinDate(details.endTime) ? details.endTime.getTime() : undefined;
  const asked = details.numValuesPerNode;
  const limit = asked > 0 ? Math.min(asked, MAX_VALUES_PER_READ) : MAX_VALUES_PER_READ;
  if (start === undefined && end === undefined) return undefined;
  // End time and a count alone: backward from the end; a count is then required.
  if (start === undefined) return asked > 0 ? { from: -Infinity, to: end!, newestFirst: true, limit } : undefined;
  if (end === undefined) return { from: start, to: Infinity, newestFirst: false, limit };
  return { from: Math.min(start, end), to: Math.max(start, end), newestFirst: end < start, limit };
}

/** Serves raw HistoryRead of `variable` (channel `channelId`) from `history`, page by page. */
export function serveHistoryPages(variable: UAVariable, channelId: string, history: HistoryStore): void {
  const hook: RawReadHook['_historyReadRaw'] = (context, details, _indexRange, _dataEncoding, continuation, callback) => {
    const kept = continuations(context);
    let request: Omit<Continuation, 'after'> & { after?: HistoryCursor };
    if (continuation.continuationPoint && continuation.continuationPoint.length > 0) {
      const key = continuation.continuationPoint.toString('hex');
      const found = kept?.get(key);
      if (!found || found.channelId !== channelId) return callback(null, outcome(StatusCodes.BadContinuationPointInvalid));
      kept!.delete(key);
      if (continuation.releaseContinuationPoints) return callback(null, outcome(StatusCodes.Good));
      request = found;
    } else {
      if (continuation.releaseContinuationPoints) return callback(null, outcome(StatusCodes.BadContinuationPointInvalid));
      const domain = domainOf(details);
      if (!domain) return callback(null, outcome(StatusCodes.BadHistoryOperationUnsupported));
      request = { channelId, ...domain };
    }
    history.queryPage(channelId, request).then(
      (page) => {
        const values = page.points.map(historyDataValue);
        if (!page.next) return callback(null, outcome(values.length === 0 ? StatusCodes.GoodNoData : StatusCodes.Good, values));
        if (!kept) return callback(null, outcome(StatusCodes.GoodMoreData, values));
        const key = randomBytes(12);
        kept.set(key.toString('hex'), { ...request, after: page.next });
        while (kept.size > MAX_CONTINUATIONS_PER_SESSION) kept.delete(kept.keys().next().value!);
        callback(null, outcome(StatusCodes.GoodMoreData, values, key));
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  };
  (variable as unknown as RawReadHook)._historyReadRaw = hook;
}
