import { Readable } from 'node:stream';
import { parse } from 'csv-parse';

/**
 * The CSV files people hand the engine (customer lists, bank statements) come from spreadsheets set to a
 * German or an English locale: `;` or `,` between the fields.
 */

/** Whichever of `;` and `,` the header row uses more often outside quotes. */
export function detectDelimiter(content: string): ';' | ',' {
  let semicolons = 0;
  let commas = 0;
  let quoted = false;
  for (const char of content) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) break;
    else if (!quoted && char === ';') semicolons += 1;
    else if (!quoted && char === ',') commas += 1;
  }
  return semicolons >= commas && semicolons > 0 ? ';' : ',';
}

/** A CSV file's text as the readers take it: without its byte-order mark, with its delimiter. */
export interface CsvText {
  content: string;
  delimiter: ';' | ',';
  /** Where the upload's decoding put U+FFFD for bytes that are not UTF-8, or null when it is valid UTF-8. */
  invalidUtf8At: number | null;
}

/** The text of an uploaded CSV file: a leading byte-order mark dropped, the delimiter detected, bad UTF-8 found. */
export function csvText(text: string): CsvText {
  const content = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const replacement = content.indexOf('\uFFFD');
  return { content, delimiter: detectDelimiter(content), invalidUtf8At: replacement >= 0 ? replacement : null };
}

/** What csv-parse tells about a record with `info: true`: the line it ends on, and the empty lines so far. */
export interface CsvRecordInfo {
  lines: number;
  empty_lines: number;
}

/** csv-parse's options the files here use. */
export interface CsvReadOptions {
  delimiter: ';' | ',';
  relax_column_count?: boolean;
  skip_empty_lines?: boolean;
  trim?: boolean;
}

/** Characters handed to the parser at a time. */
const SLICE_LENGTH = 64 * 1024;
/** The longest the reading runs before it lets other work (requests, timers, I/O) have the event loop. */
const MAX_MILLISECONDS_WITHOUT_YIELD = 8;

/** Lets every callback that is waiting run (setImmediate: after I/O, not before it like a promise). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Slices of `text` that never cut a surrogate pair, each yielded after the event loop had its turn. */
async function* slicesOf(text: string): AsyncGenerator<string> {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + SLICE_LENGTH, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end += 1;
    yield text.slice(start, end);
    start = end;
    await yieldToEventLoop();
  }
}

/**
 * Reads a CSV text of any size without holding the event loop: csv-parse's streaming API gets the text in
 * slices of 64 KiB, and `onRecord` gets each record as it is parsed; every 8 ms at most the reading yields, so
 * a request that arrives meanwhile is answered between two slices rather than after the whole file. A file
 * that is not valid CSV rejects with csv-parse's error (its `lines` says where).
 */
export async function readCsvRecords(
  text: string,
  options: CsvReadOptions,
  onRecord: (record: string[], info: CsvRecordInfo) => void,
): Promise<void> {
  const parser = Readable.from(slicesOf(text)).pipe(parse({ ...options, info: true }));
  let lastYield = performance.now();
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: CsvRecordInfo }>) {
    onRecord(record, info);
    if (performance.now() - lastYield >= MAX_MILLISECONDS_WITHOUT_YIELD) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
}
