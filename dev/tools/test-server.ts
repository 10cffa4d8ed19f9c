import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, isExecutable, toolDirectories } from './cache';

const run = promisify(execFile);

/**
 * The Java test server that pairs with TypeScript SDK 1.24: with it, a workflow that sleeps 30 days and runs an
 * activity finishes in seconds, the server's start included.
 */
export const TEST_SERVER_VERSION = '1.38.0';

const POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kontor</groupId>
  <artifactId>temporal-test-server-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEST_SERVER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;

/**
 * The time-skipping test server for workflow tests: `TEMPORAL_TEST_SERVER_PATH`; else, with Java and Maven,
 * `io.temporal:temporal-test-server` and its dependencies from Maven Central behind a wrapper that `exec`s
 * java (the SDK passes the port as the only argument and kills the wrapper's pid). Null: let the SDK
 * download its own.
 */
export async function resolveTestServer({ log }: { log: (line: string) => void }): Promise<{ path: string; source: string } | null> {
  const fromEnvironment = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnvironment) return { path: fromEnvironment, source: 'TEMPORAL_TEST_SERVER_PATH' };

  const dirs = toolDirectories().map((dir) => path.join(dir, `temporal-test-server-${TEST_SERVER_VERSION}`));
  for (const dir of dirs) {
    if (await isExecutable(path.join(dir, 'test-server'))) return { path: path.join(dir, 'test-server'), source: `cache (${dir})` };
  }
  const [java, mvn] = await Promise.all([findOnPath('java'), findOnPath('mvn')]);
  if (!java || !mvn) return null;

  const target = dirs[1]!;
  const staging = `${target}.partial-${process.pid}`;
  log(`fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} from Maven Central`);
  const started = Date.now();
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  await fs.writeFile(path.join(staging, 'pom.xml'), POM);
  await run(mvn, ['-B', '-q', 'dependency:copy-dependencies', '-DoutputDirectory=lib', '-DincludeScope=runtime'], { cwd: staging, maxBuffer: 16 * 1024 * 1024 });
  await fs.writeFile(path.join(staging, 'test-server'), `#!/bin/sh\nexec "${java}" -cp "${path.join(target, 'lib')}/*" io.temporal.testserver.TestServer "$@"\n`, { mode: 0o755 });
  await fs.rm(target, { recursive: true, force: true });
  await fs.rename(staging, target);
  log(`fetched the test server in ${Math.round((Date.now() - started) / 1000)} s`);
  for (const other of dirs.slice(0, 1)) {
    await fs.rm(other, { recursive: true, force: true });
    await fs.mkdir(path.dirname(other), { recursive: true });
    await fs.symlink(target, other).catch(() => undefined);
  }
  return { path: path.join(target, 'test-server'), source: `Maven Central (${target})` };
}
