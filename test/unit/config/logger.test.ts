import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { asynchronousDestination } from '../../../config/logger';

/**
 * The API's log destination gathers lines in the background (sonic-boom, patched to keep count of the bytes it
 * has gathered). The oracle is the file: every line arrives, whole and in order, in writes of at most 16 KiB,
 * whatever the lines' characters; and adding a line counts the bytes of that line only, never of the lines
 * gathered before it.
 */
describe('the asynchronous log destination', () => {
  let directory: string;
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kontor-log-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  /** Lines of 1 to 300 characters, some of 2, 3 and 4 bytes each in UTF-8 (ä, €, 𝄞), from a seeded generator. */
  function lines(count: number, seed: number): string[] {
    const alphabet = ['a', 'Z', '7', ' ', '"', 'ä', 'ß', '€', '𝄞'];
    let state = seed;
    const next = (limit: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % limit;
    };
    return Array.from({ length: count }, (_, index) => {
      const characters = Array.from({ length: 1 + next(300) }, () => alphabet[next(alphabet.length)]!);
      return `${index}:${characters.join('')}\n`;
    });
  }

  async function writeAll(file: string, written: string[]): Promise<void> {
    const destination = asynchronousDestination(file);
    await once(destination, 'ready');
    // all in one turn of the event loop: the first write is still under way while the rest are gathered
    for (const line of written) destination.write(line);
    destination.end();
    await once(destination, 'close');
  }

  it('writes every line whole and in order, in writes of at most 16 KiB', async () => {
    const file = path.join(directory, 'lines.log');
    const written = lines(5_000, 20261205);
    const writes: number[] = [];
    const write = fs.write;
    jest.spyOn(fs, 'write').mockImplementation(((fd: number, data: string | Uint8Array, ...rest: unknown[]) => {
      writes.push(typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
      return (write as (...args: unknown[]) => void)(fd, data, ...rest);
    }) as typeof fs.write);

    await writeAll(file, written);

    expect(fs.readFileSync(file, 'utf8')).toBe(written.join(''));
    expect(writes.length).toBeGreaterThan(1);
    expect(Math.max(...writes)).toBeLessThanOrEqual(16 * 1024);
    // gathered, not written a line at a time
    expect(writes.length).toBeLessThan(written.length / 10);
  });

  it('counts the bytes of each line it adds, never of the lines gathered before it', async () => {
    const written = lines(2_000, 7);
    const longestLine = Math.max(...written.map((line) => line.length));
    const counted: number[] = [];
    const byteLength = Buffer.byteLength;
    jest.spyOn(Buffer, 'byteLength').mockImplementation(((value: string, encoding?: BufferEncoding) => {
      if (typeof value === 'string') counted.push(value.length);
      return byteLength(value, encoding);
    }) as typeof Buffer.byteLength);

    await writeAll(path.join(directory, 'counted.log'), written);

    expect(counted.length).toBeGreaterThanOrEqual(written.length);
    expect(Math.max(...counted)).toBeLessThanOrEqual(longestLine);
  });
});
