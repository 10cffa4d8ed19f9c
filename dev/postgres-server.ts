import { startEmbeddedPostgres } from './embedded-postgres';

/**
 * Embedded PostgreSQL as a process of its own: `node --import tsx dev/postgres-server.ts <dataDir> <port>`.
 * Prints `ready <url>` once it accepts connections and stops the server on SIGTERM or SIGINT, or when its stdin closes. Tests use it
 * because jest cannot load the ESM-only `embedded-postgres` package, and because a process can be killed.
 */
async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  if (!dataDir || !port) throw new Error('usage: postgres-server.ts <dataDir> <port>');
  // Whoever started this process holds the other end of its stdin: when that process is gone, however it
  // died (a jest worker force-exited, a SIGKILL), the pipe closes and the server stops instead of outliving it.
  let orphaned = false;
  let stop: (() => Promise<void>) | null = null;
  process.stdin.on('close', () => {
    orphaned = true;
    void stop?.();
  });
  process.stdin.resume();
  const postgres = await startEmbeddedPostgres({ dataDir, port: Number(port), database: 'kontor', log: (line) => console.error(line) });
  let stopping = false;
  stop = async () => {
    if (stopping) return;
    stopping = true;
    await postgres.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop?.());
  process.on('SIGINT', () => void stop?.());
  if (orphaned) return stop();
  console.log(`ready ${postgres.url}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
