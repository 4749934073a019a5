/**
 * The four Modbus tables of one device at PDU addresses. An image may lie over another: reads fall through
 * to the one below, writes stay on top (the per-request view of scripted values and faults over the stored image).
 */
import { mergeWord, type EncodedWrite } from '../modbus/encode.js';

export type BitTable = 1 | 2;
export type WordTable = 3 | 4;

export class RegisterImage {
  private readonly bitTables: Record<BitTable, Map<number, boolean>> = { 1: new Map(), 2: new Map() };
  private readonly wordTables: Record<WordTable, Map<number, number>> = { 3: new Map(), 4: new Map() };

  constructor(private readonly below: RegisterImage | null = null) {}

  bit(table: BitTable, address: number): boolean {
    return this.bitTables[table].get(address) ?? this.below?.bit(table, address) ?? false;
  }

  word(table: WordTable, address: number): number {
    return this.wordTables[table].get(address) ?? this.below?.word(table, address) ?? 0;
  }

  setBit(table: BitTable, address: number, on: boolean): void {
    this.bitTables[table].set(address, on);
  }

  setWord(table: WordTable, address: number, value: number): void {
    this.wordTables[table].set(address, value & 0xffff);
  }

  apply(write: EncodedWrite): void {
    if ('bits' in write) {
      const table = write.fn;
      write.bits.forEach((on, i) => this.setBit(table, write.pduAddress + i, on));
      return;
    }
    const table = write.fn;
    write.words.forEach((word, i) => {
      const address = write.pduAddress + i;
      this.setWord(table, address, mergeWord(this.word(table, address), word, write.mask));
    });
  }

  applyAll(writes: readonly EncodedWrite[]): void {
    for (const write of writes) this.apply(write);
  }
}
