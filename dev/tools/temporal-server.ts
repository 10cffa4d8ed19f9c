import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, isExecutable, resolveAsScript, toolDirectories } from './cache';

const run = promisify(execFile);

/** The server version of the Temporal CLI 1.5.1 (dev/tools/temporal-cli.ts), so both run the same server code. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
const MODULE = 'go.temporal.io/server';

export interface TemporalServerTools {
  /** `temporal-server` (go.temporal.io/server/cmd/server). */
  server: string;
  /** `temporal-sql-tool` (go.temporal.io/server/cmd/tools/sql). */
  sqlTool: string;
  /** The module's `schema/` folder: `postgresql/v12/temporal/versioned`, `postgresql/v12/visibility/versioned`, … */
  schemaDir: string;
  /** Where it came from, for the start log: cache or go install. */
  source: string;
}

/**
 * The Temporal server and its SQL schema tool, built from the module's sources with `go install` (no replace
 * directives in v1.29.1) and kept with the module's schema files in one folder of the tool directories
 * (`.tools/temporal-server-<version>`, `~/.cache/kontor/temporal-server-<version>`): a fresh clone on the
 * same machine, such as a CI run, finds the build there. The folder is built under a temporary name and
 * renamed when complete, so an interrupted build never leaves half of it. Null without Go.
 */
export async function resolveTemporalServer({ log }: { log: (line: string) => void }): Promise<TemporalServerTools | null> {
  const dirs = toolDirectories().map((dir) => path.join(dir, `temporal-server-${TEMPORAL_SERVER_VERSION}`));
  for (const dir of dirs) {
    const tools = toolsIn(dir);
    if ((await isExecutable(tools.server)) && (await isExecutable(tools.sqlTool)) && (await fs.stat(tools.schemaDir).catch(() => null))) {
      await linkOthers(dirs, dir);
      return { ...tools, source: `cache (${dir})` };
    }
  }
  const go = await findOnPath('go');
  if (!go) return null;

  const target = dirs[1]!;
  const staging = `${target}.partial-${process.pid}`;
  log(`building temporal-server and temporal-sql-tool ${TEMPORAL_SERVER_VERSION} with Go (the first time takes a few minutes)`);
  const started = Date.now();
  const progress = setInterval(() => log(`  still building the Temporal server (${Math.round((Date.now() - started) / 1000)} s)`), 15_000);
  try {
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(path.join(staging, 'bin'), { recursive: true });
    const gobin = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-temporal-server-build-'));
    try {
      await goInstall(go, gobin, [`${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `${MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`]);
      await fs.copyFile(path.join(gobin, 'server'), path.join(staging, 'bin', 'temporal-server'));
      await fs.copyFile(path.join(gobin, 'sql'), path.join(staging, 'bin', 'temporal-sql-tool'));
      await fs.chmod(path.join(staging, 'bin', 'temporal-server'), 0o755);
      await fs.chmod(path.join(staging, 'bin', 'temporal-sql-tool'), 0o755);
    } finally {
      await fs.rm(gobin, { recursive: true, force: true });
    }
    // the schema files ship in the module, not in the binaries: the module cache may be cleaned later
    const { stdout } = await run(go, ['mod', 'download', '-json', `${MODULE}@v${TEMPORAL_SERVER_VERSION}`], { maxBuffer: 16 * 1024 * 1024 });
    const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
    await fs.cp(path.join(moduleDir, 'schema'), path.join(staging, 'schema'), { recursive: true });
    await makeWritable(path.join(staging, 'schema'));
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(staging, target);
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    throw error;
  } finally {
    clearInterval(progress);
  }
  log(`built the Temporal server in ${Math.round((Date.now() - started) / 1000)} s`);
  await linkOthers(dirs, target);
  return { ...toolsIn(target), source: `go install ${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}` };
}

function toolsIn(dir: string): Omit<TemporalServerTools, 'source'> {
  return { server: path.join(dir, 'bin', 'temporal-server'), sqlTool: path.join(dir, 'bin', 'temporal-sql-tool'), schemaDir: path.join(dir, 'schema') };
}

/** The other tool directories point at the one build. */
async function linkOthers(dirs: string[], built: string): Promise<void> {
  for (const other of dirs) {
    if (other === built || (await fs.lstat(other).catch(() => null))) continue;
    await fs.mkdir(path.dirname(other), { recursive: true });
    await fs.symlink(built, other).catch(() => undefined);
  }
}

/** Files copied out of the Go module cache are read-only; the cache folder must stay removable. */
async function makeWritable(dir: string): Promise<void> {
  await fs.chmod(dir, 0o755);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(entryPath);
    else await fs.chmod(entryPath, 0o644);
  }
}

async function goInstall(go: string, gobin: string, packages: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', ...packages], { env: { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=mod' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let lastLines = '';
    const onOutput = (chunk: Buffer) => {
      lastLines = `${lastLines}${chunk.toString()}`.slice(-4000);
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install of the Temporal server failed (exit ${code}):\n${lastLines}`))));
  });
}

// `npx tsx dev/tools/temporal-server.ts`: builds (or finds) temporal-server and says where, as CI does before `npm test`
if (require.main === module) {
  resolveAsScript(
    `temporal-server ${TEMPORAL_SERVER_VERSION}`,
    async (options) => {
      const tools = await resolveTemporalServer(options);
      return tools && { path: tools.server, source: tools.source };
    },
    'temporal-server needs Go to be built (go.temporal.io/server)',
  );
}
