import { formatFindings, runChaos } from './chaos-run';

/**
 * `npm run chaos [-- N] [--kills K] [--temporal-kills T] [--postgres-kills P] [--sigterm] [--commands S]
 * [--seed X] [--deadline-min M] [--outbox] [--keep]`:
 * N contracts (default 1,000) due at once on the embedded stack while, at random moments of that burst, the
 * worker is SIGKILLed K times (default 3) and the Temporal dev server and PostgreSQL T and P times (once each
 * by default), each started again on its data; `--sigterm` stops the servers cleanly instead. Meanwhile a
 * client sends contract commands and payments through the API to the share S of the contracts (default 0.15).
 * Prints what the books, the mail and the answers show afterwards and exits non-zero on any violation.
 * `--seed` repeats a run's random choices (its seed is printed); `--keep` leaves the run's directory (server
 * data, worker.log) in place for a post-mortem.
 */

interface Arguments {
  contracts: number;
  kills: number;
  temporal: number;
  postgres: number;
  sigterm: boolean;
  commandShare: number;
  seed: number | undefined;
  deadlineMinutes: number;
  outbox: boolean;
  keepDir: boolean;
}

function parseArguments(argv: string[]): Arguments {
  const parsed: Arguments = { contracts: 1000, kills: 3, temporal: 1, postgres: 1, sigterm: false, commandShare: 0.15, seed: undefined, deadlineMinutes: 20, outbox: false, keepDir: false };
  const flags: Record<string, 'kills' | 'temporal' | 'postgres' | 'deadlineMinutes' | 'seed'> = {
    '--kills': 'kills',
    '--temporal-kills': 'temporal',
    '--postgres-kills': 'postgres',
    // the names of the clean restarts these were
    '--temporal-restarts': 'temporal',
    '--postgres-restarts': 'postgres',
    '--deadline-min': 'deadlineMinutes',
    '--seed': 'seed',
  };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    const flag = flags[argument];
    if (argument === '--outbox') parsed.outbox = true;
    else if (argument === '--keep') parsed.keepDir = true;
    else if (argument === '--sigterm') parsed.sigterm = true;
    else if (argument === '--commands') parsed.commandShare = share(argument, argv[(index += 1)]);
    else if (flag) parsed[flag] = wholeNumber(argument, argv[(index += 1)]);
    else if (/^\d+$/.test(argument)) parsed.contracts = wholeNumber('N', argument);
    else throw new Error(`unknown argument ${argument}`);
  }
  if (parsed.contracts < 1) throw new Error('N must be at least 1');
  if (parsed.seed === undefined && process.env.CHAOS_SEED) parsed.seed = wholeNumber('CHAOS_SEED', process.env.CHAOS_SEED);
  return parsed;
}

function wholeNumber(name: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${name} needs a whole number, got ${value ?? 'nothing'}`);
  return Number(value);
}

function share(name: string, value: string | undefined): number {
  if (value === undefined || !/^(0(\.\d+)?|1(\.0+)?)$/.test(value)) throw new Error(`${name} needs a share between 0 and 1, got ${value ?? 'nothing'}`);
  return Number(value);
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const signal = args.sigterm ? 'SIGTERM' : 'SIGKILL';
  console.log(
    `chaos run: ${args.contracts} contracts due at once, ${args.kills} worker SIGKILLs, ${args.temporal} Temporal ${signal}s, ` +
      `${args.postgres} PostgreSQL ${signal}s, commands to ${Math.round(args.commandShare * 100)} % of the contracts, ` +
      `deadline ${args.deadlineMinutes} min, mail to ${args.outbox ? 'the outbox' : 'an SMTP peer'}`,
  );
  const findings = await runChaos({
    contracts: args.contracts,
    workerKills: args.kills,
    temporalKills: args.temporal,
    postgresKills: args.postgres,
    serverSignal: signal,
    commandShare: args.commandShare,
    ...(args.seed === undefined ? {} : { seed: args.seed }),
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
