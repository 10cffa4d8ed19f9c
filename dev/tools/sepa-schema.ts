import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, toolDirectories } from './cache';

const run = promisify(execFile);

/** The ISO 20022 schemas are not on npm; the Maven artifact of hbci4j ships them at its jar root. */
export const HBCI4J_VERSION = '4.1.7';
const ARTIFACT = `com.github.hbci4j:hbci4j-core:${HBCI4J_VERSION}`;
export const PAIN_008_SCHEMA = 'pain.008.001.08.xsd';

const XSD_VALIDATE_SOURCE = path.join(__dirname, 'java', 'XsdValidate.java');

export interface SepaSchemaValidator {
  /** The pain.008.001.08 schema file. */
  schema: string;
  java: string;
  source: string;
}

/**
 * The pain.008.001.08 XSD, taken from the root of `com.github.hbci4j:hbci4j-core` on Maven Central and cached
 * in the tool directories like the Temporal test server, with the JDK that validates against it. Null without
 * Java, or without Maven when nothing is cached.
 */
export async function resolveSepaSchema({ log }: { log: (line: string) => void }): Promise<SepaSchemaValidator | null> {
  const java = await findOnPath('java');
  if (!java) return null;
  const dirs = toolDirectories().map((dir) => path.join(dir, `sepa-schemas-hbci4j-${HBCI4J_VERSION}`));
  for (const dir of dirs) {
    if (await fs.stat(path.join(dir, PAIN_008_SCHEMA)).catch(() => null)) {
      return { schema: path.join(dir, PAIN_008_SCHEMA), java, source: `cache (${dir})` };
    }
  }
  const [mvn, jar] = await Promise.all([findOnPath('mvn'), findOnPath('jar')]);
  if (!mvn || !jar) return null;

  const target = dirs[1]!;
  const staging = `${target}.partial-${process.pid}`;
  log(`fetching ${ARTIFACT} from Maven Central for ${PAIN_008_SCHEMA}`);
  const started = Date.now();
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  await run(mvn, ['-B', '-q', 'dependency:copy', `-Dartifact=${ARTIFACT}`, '-DoutputDirectory=lib'], { cwd: staging, maxBuffer: 16 * 1024 * 1024 });
  // only the schema is kept: the jar itself is a 4.7 MB HBCI client nobody here runs
  await run(jar, ['xf', path.join('lib', `hbci4j-core-${HBCI4J_VERSION}.jar`), PAIN_008_SCHEMA], { cwd: staging });
  await fs.stat(path.join(staging, PAIN_008_SCHEMA));
  await fs.rm(path.join(staging, 'lib'), { recursive: true, force: true });
  await fs.rm(target, { recursive: true, force: true });
  await fs.rename(staging, target);
  log(`fetched ${PAIN_008_SCHEMA} in ${Math.round((Date.now() - started) / 1000)} s`);
  for (const other of dirs.slice(0, 1)) {
    await fs.rm(other, { recursive: true, force: true });
    await fs.mkdir(path.dirname(other), { recursive: true });
    await fs.symlink(target, other).catch(() => undefined);
  }
  return { schema: path.join(target, PAIN_008_SCHEMA), java, source: `Maven Central (${target})` };
}

export interface XsdVerdict {
  file: string;
  valid: boolean;
  /** Every warning and error with line and column, one per line. */
  problems: string[];
}

/** Validates the files against the schema in one JVM (`java XsdValidate.java schema file...`), in the order of `files`. */
export async function validateAgainstSchema(validator: SepaSchemaValidator, files: readonly string[]): Promise<XsdVerdict[]> {
  const { stdout } = await run(validator.java, [XSD_VALIDATE_SOURCE, validator.schema, ...files], { maxBuffer: 16 * 1024 * 1024 }).catch(
    (error: { stdout?: string; code?: number; stderr?: string }) => {
      // exit 1 means "not every file valid": the verdicts are still on stdout
      if (error.code === 1 && error.stdout) return { stdout: error.stdout };
      throw new Error(`the XSD validator failed: ${error.stderr ?? String(error)}`);
    },
  );
  const verdicts: XsdVerdict[] = [];
  for (const section of stdout.split(/^### /m).slice(1)) {
    const [first = '', ...problems] = section.trimEnd().split('\n');
    const [verdict, ...file] = first.split(' ');
    verdicts.push({ file: file.join(' '), valid: verdict === 'VALID', problems });
  }
  if (verdicts.length !== files.length) throw new Error(`the XSD validator reported ${verdicts.length} of ${files.length} files:\n${stdout}`);
  return verdicts;
}
