/**
 * Which register addresses a device answers: read a span in one go, and where the device refuses (an exception),
 * split the span in halves until the refusals are pinned to single addresses. A span that times out is left
 * alone: a silent device would cost a timeout per split.
 */
import type { ReadBlock, ReadFunction, TransactionOutcome } from '../../drivers/modbus/index.js';

export interface AnsweredRegister {
  fn: ReadFunction;
  /** PDU address (0-based). */
  address: number;
  /** The word (FC3/FC4) or bit (FC1/FC2, 0/1) read. */
  value: number;
}

export type SurveyReader = (block: ReadBlock) => Promise<TransactionOutcome>;

export async function surveySpan(
  fn: ReadFunction,
  first: number,
  count: number,
  read: SurveyReader,
  shouldStop: () => boolean = () => false,
): Promise<AnsweredRegister[]> {
  const found: AnsweredRegister[] = [];
  const visit = async (address: number, n: number): Promise<boolean> => {
    if (shouldStop()) return false;
    const outcome = await read({ fn, address, count: n });
    if (outcome.ok) {
      for (let i = 0; i < n; i++) {
        const value = fn <= 2 ? (outcome.bits?.[i] ? 1 : 0) : outcome.registers?.[i];
        if (value !== undefined) found.push({ fn, address: address + i, value });
      }
      return true;
    }
    if (outcome.failure !== 'exception' || n === 1) return outcome.failure === 'exception';
    const half = Math.ceil(n / 2);
    if (!(await visit(address, half))) return false;
    return visit(address + half, n - half);
  };
  await visit(first, count);
  return found.sort((a, b) => a.address - b.address);
}
