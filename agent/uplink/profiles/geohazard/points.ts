import { MAX_DP_JSON_BYTES } from './frame.js';

/** One value for one code at one time (a component of it, for tilt and GNSS). */
export interface DataPoint {
  code: string;
  /** ISO 8601 UTC, the key of the point. */
  time: string;
  component?: string;
  value: number;
}

type CodeValues = Record<string, number | Record<string, number>>;

/** Points of one code and time travel together, so a tilt's X, Y, Z, angle and AZI are never split. */
interface Group {
  code: string;
  time: string;
  points: DataPoint[];
}

function groupPoints(points: readonly DataPoint[]): Group[] {
  const groups: Group[] = [];
  const byKey = new Map<string, Group>();
  for (const point of points) {
    const key = `${point.code}\u0000${point.time}`;
    let group = byKey.get(key);
    // The same channel twice at one instant: a group of its own, so layout() puts it in another frame.
    if (group?.points.some((p) => p.component === point.component)) group = undefined;
    if (!group) {
      group = { code: point.code, time: point.time, points: [] };
      byKey.set(key, group);
      groups.push(group);
    }
    group.points.push(point);
  }
  return groups;
}

/**
 * Lays groups out into frames: {"<devId>":{"<code>":{"<time>":value}, …}}. A group that would overwrite a
 * value already in the frame (the same channel twice at the same millisecond) starts a new frame, so no point
 * is lost to a JSON key collision.
 */
function layout(groups: readonly Group[]): Group[][] {
  const frames: Group[][] = [];
  let current: Group[] = [];
  let used = new Set<string>();
  for (const group of groups) {
    const keys = group.points.map((p) => `${p.code}\u0000${p.time}\u0000${p.component ?? ''}`);
    const clash = keys.some((k) => used.has(k));
    if (clash && current.length > 0) {
      frames.push(current);
      current = [];
      used = new Set();
    }
    current.push(group);
    for (const k of keys) used.add(k);
  }
  if (current.length > 0) frames.push(current);
  return frames;
}

function frameBody(groups: readonly Group[]): Record<string, CodeValues> {
  const body: Record<string, CodeValues> = {};
  for (const group of groups) {
    const values = (body[group.code] ??= {});
    for (const point of group.points) {
      if (point.component === undefined) {
        values[group.time] = point.value;
      } else {
        const existing = values[group.time];
        const object = typeof existing === 'object' ? existing : {};
        object[point.component] = point.value;
        values[group.time] = object;
      }
    }
  }
  return body;
}

function serialise(deviceId: string, body: Record<string, unknown>): string {
  return JSON.stringify({ [deviceId]: body });
}

/**
 * The JSON texts of the $dp frames carrying these points (and the status, in the last frame), each within the
 * two-byte length: a frame that is too big is halved by groups until it fits.
 */
export function dpJsonTexts(deviceId: string, points: readonly DataPoint[], status?: Record<string, unknown>): string[] {
  const texts: string[] = [];
  const frames = layout(groupPoints(points));
  const emit = (groups: readonly Group[], withStatus: boolean): void => {
    const body: Record<string, unknown> = frameBody(groups);
    if (withStatus && status) body.S1_ZT_1 = status;
    const text = serialise(deviceId, body);
    if (Buffer.byteLength(text, 'utf8') > MAX_DP_JSON_BYTES && groups.length > 1) {
      const half = Math.ceil(groups.length / 2);
      emit(groups.slice(0, half), false);
      emit(groups.slice(half), withStatus);
      return;
    }
    texts.push(text);
  };
  frames.forEach((groups, i) => emit(groups, i === frames.length - 1));
  if (frames.length === 0 && status) texts.push(serialise(deviceId, { S1_ZT_1: status }));
  return texts;
}
