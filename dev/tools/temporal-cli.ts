import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, installAtomically, isExecutable, resolveAsScript, toolDirectories } from './cache';

/** The last tag that `go install` can build: later ones carry replace directives. */
export const TEMPORAL_CLI_VERSION = '1.5.1';

export interface ResolvedTool {
  path: string;
  /** Where it came from, for the start log: env, PATH, cache, go install. */
  source: string;
}

/**
 * Finds the Temporal CLI: `TEMPORAL_CLI_PATH`; a `temporal` on PATH; the cache (`.tools/bin`,
 * `~/.cache/kontor/bin`); a build with `go install` (minutes, shown as progress) cached in both places.
 * Null when none of these works: the caller may then let the Temporal SDK download the CLI.
 */
export async function resolveTemporalCli({ log }: { log: (line: string) => void }): Promise<ResolvedTool | null> {
  const fromEnvironment = process.env.TEMPORAL_CLI_PATH;
  if (fromEnvironment) {
    if (!(await isExecutable(fromEnvironment))) throw new Error(`TEMPORAL_CLI_PATH=${fromEnvironment} is not an executable file`);
    return { path: fromEnvironment, source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = await findOnPath('temporal');
  if (onPath) return { path: onPath, source: 'PATH' };

  const cached = toolDirectories().map((dir) => path.join(dir, 'bin', 'temporal'));
  for (const candidate of cached) {
    if (await isExecutable(candidate)) {
      for (const other of cached) if (!(await isExecutable(other))) await installAtomically(candidate, other).catch(() => undefined);
      return { path: candidate, source: `cache (${candidate})` };
    }
  }

  const go = await findOnPath('go');
  if (!go) return null;
  const built = await buildWithGo(go, log);
  for (const target of cached) await installAtomically(built, target);
  await fs.rm(path.dirname(built), { recursive: true, force: true });
  return { path: cached[0]!, source: `go install github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}` };
}

async function buildWithGo(go: string, log: (line: string) => void): Promise<string> {
  const gobin = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-temporal-build-'));
  log(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go (the first time takes a few minutes)`);
  const started = Date.now();
  const progress = setInterval(() => log(`  still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s)`), 15_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        go,
        ['install', '-ldflags', `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`, `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`],
        { env: { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=mod' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let lastLines = '';
      const onOutput = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          lastLines = `${lastLines}\n${line}`.slice(-4000);
          if (/downloading github.com\/temporalio/.test(line)) log(`  ${line.trim()}`);
        }
      };
      child.stdout.on('data', onOutput);
      child.stderr.on('data', onOutput);
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install of the Temporal CLI failed (exit ${code}):${lastLines}`))));
    });
  } finally {
    clearInterval(progress);
  }
  log(`built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s`);
  return path.join(gobin, 'temporal');
}

// `npx tsx dev/tools/temporal-cli.ts`: builds (or finds) the Temporal CLI and says where, as CI does before `npm test`
if (require.main === module) {
  resolveAsScript(`Temporal CLI ${TEMPORAL_CLI_VERSION}`, resolveTemporalCli, 'the Temporal CLI needs Go to be built (github.com/temporalio/cli)');
}
