import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, toolDirectories } from './cache';

const run = promisify(execFile);

/** Not 2.26.0: its parent POM is missing on Maven Central, so Maven cannot resolve it. */
export const MUSTANG_VALIDATOR_VERSION = '2.25.0';

const POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kontor</groupId>
  <artifactId>mustang-validator-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.mustangproject</groupId>
      <artifactId>validator</artifactId>
      <version>${MUSTANG_VALIDATOR_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;

/** The validator's POM names repositories that cannot be reached; every one of them is sent to Central. */
const SETTINGS = `<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <mirrors>
    <mirror>
      <id>central-for-all</id>
      <mirrorOf>*</mirrorOf>
      <url>https://repo.maven.apache.org/maven2</url>
    </mirror>
  </mirrors>
</settings>
`;

const VALIDATE_SOURCE = path.join(__dirname, 'java', 'Validate.java');

export interface MustangValidator {
  /** The folder of the validator's jars. */
  lib: string;
  java: string;
  source: string;
}

/**
 * The Mustang e-invoice validator (`org.mustangproject:validator` and its 78 jars from Maven Central),
 * cached in the tool directories like the Temporal test server. Null without Java or Maven.
 */
export async function resolveMustangValidator({ log }: { log: (line: string) => void }): Promise<MustangValidator | null> {
  const java = await findOnPath('java');
  if (!java) return null;
  const dirs = toolDirectories().map((dir) => path.join(dir, `mustang-validator-${MUSTANG_VALIDATOR_VERSION}`));
  for (const dir of dirs) {
    if (await fs.stat(path.join(dir, 'lib', `validator-${MUSTANG_VALIDATOR_VERSION}.jar`)).catch(() => null)) {
      return { lib: path.join(dir, 'lib'), java, source: `cache (${dir})` };
    }
  }
  const mvn = await findOnPath('mvn');
  if (!mvn) return null;

  const target = dirs[1]!;
  const staging = `${target}.partial-${process.pid}`;
  log(`fetching org.mustangproject:validator:${MUSTANG_VALIDATOR_VERSION} from Maven Central`);
  const started = Date.now();
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  await fs.writeFile(path.join(staging, 'pom.xml'), POM);
  await fs.writeFile(path.join(staging, 'settings.xml'), SETTINGS);
  await run(mvn, ['-B', '-q', '-s', 'settings.xml', 'dependency:copy-dependencies', '-DoutputDirectory=lib', '-DincludeScope=runtime'], {
    cwd: staging,
    maxBuffer: 16 * 1024 * 1024,
  });
  await fs.rm(target, { recursive: true, force: true });
  await fs.rename(staging, target);
  log(`fetched the Mustang validator in ${Math.round((Date.now() - started) / 1000)} s`);
  for (const other of dirs.slice(0, 1)) {
    await fs.rm(other, { recursive: true, force: true });
    await fs.mkdir(path.dirname(other), { recursive: true });
    await fs.symlink(target, other).catch(() => undefined);
  }
  return { lib: path.join(target, 'lib'), java, source: `Maven Central (${target})` };
}

export interface ValidationVerdict {
  file: string;
  valid: boolean;
  /** Mustang's XML report. */
  report: string;
}

/** Validates every file in one JVM (about a second per file); the verdicts come in the order of `files`. */
export async function validateEInvoices(validator: MustangValidator, files: readonly string[]): Promise<ValidationVerdict[]> {
  const { stdout } = await run(validator.java, ['-cp', `${validator.lib}/*`, VALIDATE_SOURCE, ...files], { maxBuffer: 64 * 1024 * 1024 }).catch(
    (error: { stdout?: string; code?: number; stderr?: string }) => {
      // exit 1 means "not every file valid": the reports are still on stdout
      if (error.code === 1 && error.stdout) return { stdout: error.stdout };
      throw new Error(`the Mustang validator failed: ${error.stderr ?? String(error)}`);
    },
  );
  const verdicts: ValidationVerdict[] = [];
  for (const section of stdout.split(/^### /m).slice(1)) {
    const newline = section.indexOf('\n');
    const [verdict, ...rest] = section.slice(0, newline).split(' ');
    verdicts.push({ file: rest.join(' '), valid: verdict === 'VALID', report: section.slice(newline + 1) });
  }
  if (verdicts.length !== files.length) throw new Error(`the Mustang validator reported ${verdicts.length} of ${files.length} files:\n${stdout}`);
  return verdicts;
}

/** The text of each PDF as PDFBox (shipped with the validator) extracts it, in one JVM, in the order of `files`. */
export async function extractPdfTexts(validator: MustangValidator, files: readonly string[]): Promise<string[]> {
  const { stdout } = await run(validator.java, ['-cp', `${validator.lib}/*`, VALIDATE_SOURCE, '--text', ...files], { maxBuffer: 64 * 1024 * 1024 });
  const texts = stdout.split(/^### TEXT .*\n/m).slice(1);
  if (texts.length !== files.length) throw new Error(`PDFBox extracted ${texts.length} of ${files.length} texts:\n${stdout}`);
  return texts;
}
