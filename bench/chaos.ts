import { formatFindings, runChaos } from './chaos-run';

/**
 * `npm run chaos [-- N] [--kills K] [--temporal-restarts T] [--postgres-restarts P] [--deadline-min M] [--outbox] [--keep]`:
 * N contracts (default 1,000) due at once on the embedded stack while the worker is SIGKILLed K times
 * (default 3) and the Temporal dev server and PostgreSQL are restarted (once each by default); prints what
 * the books and the mail show afterwards and exits non-zero on any violation. `--keep` leaves the run's
 * directory (server data, worker.log) in place for a post-mortem.
 */

function parseArguments(argv: string[]): { contracts: number; kills: number; temporal: number; postgres: number; deadlineMinutes: number; outbox: boolean; keepDir: boolean } {
  const parsed = { contracts: 1000, kills: 3, temporal: 1, postgres: 1, deadlineMinutes: 20, outbox: false, keepDir: false };
  const flags: Record<string, 'kills' | 'temporal' | 'postgres' | 'deadlineMinutes'> = {
    '--kills': 'kills',
    '--temporal-restarts': 'temporal',
    '--postgres-restarts': 'postgres',
    '--deadline-min': 'deadlineMinutes',
  };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    const flag = flags[argument];
    if (argument === '--outbox') parsed.outbox = true;
    else if (argument === '--keep') parsed.keepDir = true;
    else if (flag) parsed[flag] = wholeNumber(argument, argv[(index += 1)]);
    else if (/^\d+$/.test(argument)) parsed.contracts = wholeNumber('N', argument);
    else throw new Error(`unknown argument ${argument}`);
  }
  if (parsed.contracts < 1) throw new Error('N must be at least 1');
  return parsed;
}

function wholeNumber(name: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${name} needs a whole number, got ${value ?? 'nothing'}`);
  return Number(value);
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  console.log(
    `chaos run: ${args.contracts} contracts due at once, ${args.kills} worker SIGKILLs, ${args.temporal} Temporal restarts, ` +
      `${args.postgres} PostgreSQL restarts, deadline ${args.deadlineMinutes} min, mail to ${args.outbox ? 'the outbox' : 'an SMTP peer'}`,
  );
  const findings = await runChaos({
    contracts: args.contracts,
    workerKills: args.kills,
    temporalRestarts: args.temporal,
    postgresRestarts: args.postgres,
    deadlineMs: args.deadlineMinutes * 60_000,
    mail: args.outbox ? 'outbox' : 'smtp',
    log: (line) => console.log(`  ${line}`),
    keepDir: args.keepDir,
  });
  console.log('');
  console.log(formatFindings(findings));
  if (!findings.passed && findings.workerLogTail.length > 0) {
    console.log(['', 'last worker log lines:', ...findings.workerLogTail.map((line) => `  ${line}`)].join('\n'));
  }
  process.exit(findings.passed ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
