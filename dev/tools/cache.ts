import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * Tools live in the clone's `.tools/` and in a cache outside it (`$XDG_CACHE_HOME/kontor` or
 * `~/.cache/kontor`), so that a fresh clone on the same machine, such as a CI run, reuses a build.
 */
export function toolDirectories(): string[] {
  const cacheHome = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return [path.join(REPO_ROOT, '.tools'), path.join(cacheHome, 'kontor')];
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fs.constants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Copies a file into place through a temporary name, so that an interrupted copy never leaves half a file. */
export async function installAtomically(source: string, target: string): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.partial-${process.pid}`;
  await fs.copyFile(source, temporary);
  await fs.chmod(temporary, 0o755);
  await fs.rename(temporary, target);
}

export async function findOnPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && (await isExecutable(path.join(dir, name)))) return path.join(dir, name);
  }
  return null;
}

/**
 * The body of `npx tsx dev/tools/<tool>.ts`, as CI runs it before `npm test`: resolves (builds or finds) the tool,
 * says where it came from and how long that took, and exits 1 when it cannot be had.
 */
export function resolveAsScript(name: string, resolve: (options: { log: (line: string) => void }) => Promise<{ path: string; source: string } | null>, missing: string): void {
  const started = Date.now();
  resolve({ log: (line) => console.log(line) })
    .then((tool) => {
      if (!tool) throw new Error(missing);
      console.log(`${name} from ${tool.source}: ${tool.path} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
