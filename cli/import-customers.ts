import fs from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import { loadConfig } from '../config/config';
import { loadDevConfig } from '../config/dev-config';
import { createSql, pingDatabase } from '../db/client';
import { findProjectByName } from '../db/queries/projects';
import { importCustomers, type ImportProgress, type ImportReport } from '../operations/customer-import';
import { OperationError } from '../operations/errors';

/**
 * `npm run import:customers -- <file> [--project <name>] [--json]`: imports customers and their accounts
 * from a CSV file into a project (default: `default`), as `POST /Imports/customers` does.
 *
 * Exit codes: 0 every row imported or skipped as existing; 1 some rows refused (the others are imported);
 * 2 nothing imported (bad arguments, unreadable file, unknown project).
 */

const USAGE = 'usage: npm run import:customers -- <file.csv> [--project <name>] [--json]';
const SKIPPED_SHOWN = 10;

class UsageError extends Error {}

interface Arguments {
  file: string;
  project: string;
  json: boolean;
}

function parseArguments(argv: readonly string[]): Arguments {
  let file: string | undefined;
  let project = 'default';
  let json = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--project') {
      const value = argv[index + 1];
      if (!value || value.startsWith('--')) throw new UsageError('--project needs a project name');
      project = value;
      index += 1;
    } else if (argument.startsWith('--project=')) project = argument.slice('--project='.length);
    else if (argument === '--json') json = true;
    else if (argument.startsWith('--')) throw new UsageError(`unknown option ${argument}`);
    else if (file === undefined) file = argument;
    else throw new UsageError(`one file at a time; got ${file} and ${argument}`);
  }
  if (!file) throw new UsageError('the CSV file is missing');
  return { file, project, json };
}

/**
 * Without DATABASE_URL the import goes to the embedded PostgreSQL that `npm start` runs: the URL that
 * dev/start.ts hands its children, built from POSTGRES_PORT and dev/embedded-postgres.ts's user, password
 * and database.
 */
function environmentWithDatabase(environment: NodeJS.ProcessEnv, say: (line: string) => void): NodeJS.ProcessEnv {
  if (environment.DATABASE_URL) return environment;
  const dev = loadDevConfig(environment);
  say(`DATABASE_URL is not set: importing into the embedded PostgreSQL of npm start on 127.0.0.1:${dev.postgresPort}`);
  return { ...environment, DATABASE_URL: `postgres://postgres:kontor@127.0.0.1:${dev.postgresPort}/kontor` };
}

async function readUtf8(file: string): Promise<string> {
  const bytes = await fs.readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${file} is not valid UTF-8; save it as UTF-8 (with or without BOM) and import it again`);
  }
}

/** A bar when a person watches the terminal; otherwise a plain line at every tenth of the rows, for logs. */
function progressReporter(out: NodeJS.WriteStream): { start(total: number): void; update(progress: ImportProgress): void; stop(): void } {
  if (out.isTTY) {
    const bar = new SingleBar({ format: 'importing [{bar}] {percentage}% | {value}/{total} rows | {eta_formatted} left', stream: out, hideCursor: true });
    return {
      start: (total) => bar.start(total, 0),
      update: ({ done }) => bar.update(done),
      stop: () => bar.stop(),
    };
  }
  let lastTenth = -1;
  return {
    start: (total) => out.write(`importing ${total} valid rows\n`),
    update({ done, total }) {
      const tenth = Math.floor((done * 10) / total);
      if (tenth === lastTenth && done < total) return;
      lastTenth = tenth;
      out.write(`progress: ${done}/${total} rows (${Math.floor((done * 100) / total)}%)\n`);
    },
    stop: () => undefined,
  };
}

function printReport(report: ImportReport, write: (line: string) => void): void {
  write(`imported ${report.imported}, skipped ${report.skipped} (customer number exists already), rejected ${report.rejected.length}`);
  if (report.skipped > 0) {
    const shown = report.skippedRows.slice(0, SKIPPED_SHOWN).map((row) => `line ${row.line} ${row.customerNumber}`);
    const more = report.skipped > SKIPPED_SHOWN ? `, and ${report.skipped - SKIPPED_SHOWN} more` : '';
    write(`skipped: ${shown.join(', ')}${more}`);
  }
  for (const row of report.rejected) write(`line ${row.line}: ${row.reasons.join('; ')}`);
}

async function main(): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  let args: Arguments;
  let text: string;
  try {
    args = parseArguments(process.argv.slice(2));
    text = await readUtf8(args.file);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(error.message);
    say(USAGE);
    return 2;
  }
  const config = loadConfig(environmentWithDatabase(process.env, say));
  const sql = createSql(config.databaseUrl, { max: 2 });
  try {
    await pingDatabase(sql).catch((error: NodeJS.ErrnoException) => {
      const hint = error.code === 'ECONNREFUSED' && !process.env.DATABASE_URL ? '; is npm start running? Otherwise set DATABASE_URL' : '';
      throw new Error(`cannot reach PostgreSQL: ${error.message}${hint}`);
    });
    const project = await findProjectByName(sql, args.project);
    if (!project) {
      say(`there is no project named ${args.project}`);
      return 2;
    }
    // With --json stdout carries the report only, so the progress goes to stderr.
    const progress = progressReporter(args.json ? process.stderr : process.stdout);
    let started = false;
    const report = await importCustomers({ sql }, project, {
      text,
      onValidated: (rows) => {
        if (rows === 0) return;
        progress.start(rows);
        started = true;
      },
      onProgress: (step) => progress.update(step),
    });
    if (started) progress.stop();
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else printReport(report, (line) => process.stdout.write(`${line}\n`));
    return report.rejected.length > 0 ? 1 : 0;
  } catch (error) {
    // the operation refuses an unreadable file as a whole, before it writes anything
    if (!(error instanceof OperationError)) throw error;
    say(`${args.file}: ${error.message}; nothing was imported`);
    return 2;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`import failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
