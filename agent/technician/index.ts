/**
 * The technician's tools for a field bus, used by `vigil scan`, `read`, `write` and `profile new`: a direct
 * session on a line (through the project's bus owner), the bus scan, profile matching, every-way decoding of
 * registers, reading through a profile, and a profile draft from what answered.
 */
export { FieldBusSession, BusOpenError, describeLine, describeTransport } from './session.js';
export type { SessionOptions, RequestTiming } from './session.js';
export { decodeTable, renderDecodeTable, formatAddress, formatNumber, hex16 } from './decode-table.js';
export type { DecodeTable, WordRow, WideRow, WideValue } from './decode-table.js';
export { readWithProfile, probeRegisters } from './profile-read.js';
export type { BlockReader, ProfileReadResult, RegisterReading } from './profile-read.js';
export { judgeProfile, matchProfiles } from './match.js';
export type { MatchVerdict, ProfileMatch } from './match.js';
export { surveySpan } from './survey.js';
export type { AnsweredRegister } from './survey.js';
export { examineDevice, probeUnit, runScan } from './scan.js';
export type { Endpoint, ExamineOptions, FoundDevice, ProbeAnswer, ScanEvents, ScanPlan, ScanProgress, ScanResult } from './scan.js';
export { writeSkeleton } from './skeleton.js';
export type { SkeletonInput } from './skeleton.js';
export { parseSavedScan } from './scan-file.js';
export type { SavedDevice, SavedScan } from './scan-file.js';
