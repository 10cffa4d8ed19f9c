import fs from 'node:fs/promises';

/**
 * Killing a server the way a crash does: every process of it at the same instant, with nothing written
 * on the way out. For the chaos run (bench/chaos-run.ts) through the `kill()` of dev/postgres-process.ts
 * and dev/temporal-dev-server.ts. Linux only: it reads the process table from /proc.
 */

/** The process table as parent → children, read from /proc; empty where there is no /proc. */
async function childrenByParent(): Promise<Map<number, number[]>> {
  const entries = await fs.readdir('/proc').catch(() => [] as string[]);
  const children = new Map<number, number[]>();
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
        if (stat === null) return;
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after its last ')'
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
      }),
  );
  return children;
}

/** The direct children of `parent`. */
export async function childrenOf(parent: number): Promise<number[]> {
  return (await childrenByParent()).get(parent) ?? [];
}

/** Every descendant of `root` (children, their children, …). */
export async function descendantsOf(root: number): Promise<number[]> {
  const children = await childrenByParent();
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** True while the process exists and is no zombie (a zombie holds no socket, file lock or shared memory). */
export async function isAlive(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return false;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/**
 * Resolves once none of `pids` is in the process table any more, zombies included: a zombie's pid still
 * answers kill(pid, 0), so a server that checks whether the pid in its lock file runs would think it does.
 */
export async function waitUntilGone(pids: number[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const present = (await Promise.all(pids.map(async (pid) => ((await fs.access(`/proc/${pid}`).then(() => true, () => false)) ? pid : null)))).filter(
      (pid) => pid !== null,
    );
    if (present.length === 0) return;
    if (Date.now() >= deadline) throw new Error(`processes ${present.join(', ')} are still in the process table`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

/**
 * SIGKILLs `root`'s descendants as one crash: all are stopped first (SIGSTOP), so that none of them sees
 * another die and reacts (a PostgreSQL backend would finish its statement after its postmaster's death),
 * then all are killed. Resolves once none of them is alive. `root` itself is left to the caller: it is the
 * caller's child, whose exit the caller awaits.
 */
export async function killDescendants(root: number, options: { timeoutMs?: number } = {}): Promise<number[]> {
  const stopped = new Set<number>();
  // a process forked while the others were being stopped is caught by the next pass
  for (let pass = 0; pass < 3; pass += 1) {
    const found = (await descendantsOf(root)).filter((pid) => !stopped.has(pid));
    if (found.length === 0) break;
    for (const pid of found) {
      signal(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  }
  for (const pid of stopped) signal(pid, 'SIGKILL');
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const alive = (await Promise.all([...stopped].map(async (pid) => ((await isAlive(pid)) ? pid : null)))).filter((pid) => pid !== null);
    if (alive.length === 0) return [...stopped];
    if (Date.now() >= deadline) throw new Error(`processes ${alive.join(', ')} outlived their SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
