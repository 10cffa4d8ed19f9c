import type { Sql } from '../db/client';

/**
 * The books' invariants, checked after every scenario: balances are ledger sums, invoice numbers are
 * gap-free per project and year, no business key was used twice, and every invoice adds up.
 */
export async function checkBookInvariants(sql: Sql): Promise<string[]> {
  const problems: string[] = [];

  const gaps = await sql<{ projectId: string; year: string; count: string; highest: string }[]>`
    select project_id as "projectId", substring(invoice_number from 4 for 4) as year, count(*)::text as count,
      max(substring(invoice_number from 9)::int)::text as highest
    from invoices group by 1, 2 having count(*) <> max(substring(invoice_number from 9)::int)`;
  for (const gap of gaps) problems.push(`invoice numbers of project ${gap.projectId} in ${gap.year}: ${gap.count} invoices but highest number ${gap.highest}`);

  const duplicateActivities = await sql<{ contractId: string; key: string }[]>`
    select contract_id as "contractId", activity_key as key from activities where superseded_at is null
    group by 1, 2 having count(*) > 1`;
  for (const duplicate of duplicateActivities) problems.push(`activity ${duplicate.key} of contract ${duplicate.contractId} exists twice`);

  const unbalancedInvoices = await sql<{ invoiceNumber: string }[]>`
    select i.invoice_number as "invoiceNumber" from invoices i
    where i.net_total <> (select coalesce(sum(net_amount), 0) from invoice_lines where invoice_id = i.id)
       or i.tax_total <> (select coalesce(sum(tax), 0) from invoice_taxes where invoice_id = i.id)
       or i.gross_total <> i.net_total + i.tax_total`;
  for (const invoice of unbalancedInvoices) problems.push(`invoice ${invoice.invoiceNumber} does not add up`);

  const unbooked = await sql<{ invoiceNumber: string }[]>`
    select i.invoice_number as "invoiceNumber" from invoices i
    where (select count(*) from ledger_entries e where e.invoice_id = i.id and e.entry_type = 'INVOICE' and e.amount = -i.gross_total) <> 1`;
  for (const invoice of unbooked) problems.push(`invoice ${invoice.invoiceNumber} is not booked exactly once on its account`);

  problems.push(...(await checkAllocations(sql)));

  const doubleMails = await sql<{ businessKey: string }[]>`
    select business_key as "businessKey" from mail_log where kind = 'INVOICE' group by project_id, business_key having count(*) > 1`;
  for (const mail of doubleMails) problems.push(`invoice mail ${mail.businessKey} logged twice`);
  return problems;
}

/**
 * Open items (see db/migrations/013_open_items.sql), for the books of every project: each allocation joins a
 * credit (a positive entry) to an open item (a negative one) of its own account; no pair of entries nets below
 * zero and no entry has more allocated than its amount; so for every account the balance (the ledger's sum)
 * is its unallocated credit less its open amounts, computed here from the entries and the allocations on
 * their own. No account has unallocated credit beside an open item (every write settles it). An invoice's
 * status is what its allocations make it: CANCELLED exactly when it has a storno, else PAID when its gross is
 * allocated (with the day it was paid), PARTIAL when part of it is, OPEN when none is; an invoice of no
 * positive gross is PAID.
 */
export async function checkAllocations(sql: Sql, projectId: string | null = null): Promise<string[]> {
  const problems: string[] = [];
  const ofProject = (alias: string) => (projectId === null ? sql`true` : sql`${sql(alias)}.project_id = ${projectId}`);

  const crossed = await sql<{ id: string; accountId: string; credit: string; debit: string }[]>`
    select al.id, al.account_id as "accountId", c.amount::text as credit, d.amount::text as debit
    from allocations al join ledger_entries c on c.id = al.credit_entry_id join ledger_entries d on d.id = al.debit_entry_id
      join accounts a on a.id = al.account_id
    where ${ofProject('a')} and (c.amount <= 0 or d.amount >= 0 or c.account_id <> al.account_id or d.account_id <> al.account_id)`;
  listSome(problems, crossed, (row) => `open items: allocation ${row.id} on account ${row.accountId} joins entries of ${row.credit} and ${row.debit}, not a credit and an open item of that account`);

  const negativePairs = await sql<{ creditEntryId: string; debitEntryId: string; net: string }[]>`
    select al.credit_entry_id as "creditEntryId", al.debit_entry_id as "debitEntryId", sum(al.amount)::text as net
    from allocations al join accounts a on a.id = al.account_id where ${ofProject('a')}
    group by 1, 2 having sum(al.amount) < 0`;
  listSome(problems, negativePairs, (row) => `open items: allocations from entry ${row.creditEntryId} to ${row.debitEntryId} net ${row.net}`);

  const overAllocated = await sql<{ entryId: string; amount: string; allocated: string }[]>`
    with sides as (
      select credit_entry_id as entry_id, amount from allocations union all select debit_entry_id, amount from allocations)
    select e.id as "entryId", e.amount::text as amount, sum(s.amount)::text as allocated
    from sides s join ledger_entries e on e.id = s.entry_id join accounts a on a.id = e.account_id
    where ${ofProject('a')} group by e.id having sum(s.amount) > abs(e.amount) or sum(s.amount) < 0`;
  listSome(problems, overAllocated, (row) => `open items: entry ${row.entryId} of ${row.amount} has ${row.allocated} allocated`);

  const accounts = await sql<{ accountNumber: string; balance: string; unallocated: string; open: string }[]>`
    with allocated as (
      select entry_id, sum(amount) as amount from (
        select credit_entry_id as entry_id, amount from allocations union all select debit_entry_id, amount from allocations) sides
      group by entry_id),
    entries as (
      select e.account_id, e.amount, abs(e.amount) - coalesce(al.amount, 0) as left_over
      from ledger_entries e left join allocated al on al.entry_id = e.id)
    select a.account_number as "accountNumber",
      coalesce(sum(e.amount), 0)::text as balance,
      coalesce(sum(e.left_over) filter (where e.amount > 0), 0)::text as unallocated,
      coalesce(sum(e.left_over) filter (where e.amount < 0), 0)::text as open
    from accounts a left join entries e on e.account_id = a.id
    where ${ofProject('a')} group by a.id`;
  for (const account of accounts) {
    const [balance, unallocated, open] = [account.balance, account.unallocated, account.open].map((value) => Math.round(Number(value) * 10_000));
    if (balance !== unallocated! - open!) {
      problems.push(`open items: account ${account.accountNumber} has balance ${account.balance}, but unallocated credit ${account.unallocated} less open items ${account.open}`);
    }
    if (unallocated! > 0 && open! > 0) problems.push(`open items: account ${account.accountNumber} has unallocated credit ${account.unallocated} beside open items of ${account.open}`);
  }

  const invoices = await sql<{ invoiceNumber: string; status: string; gross: string; allocated: string; paidOn: string | null; corrections: number }[]>`
    select i.invoice_number as "invoiceNumber", i.status, i.gross_total::text as gross, i.paid_on as "paidOn",
      coalesce((select sum(al.amount) from allocations al join ledger_entries e on e.id = al.debit_entry_id
        where e.invoice_id = i.id and e.entry_type = 'INVOICE'), 0)::text as allocated,
      (select count(*)::int from invoice_corrections c where c.invoice_id = i.id) as corrections
    from invoices i where ${ofProject('i')}`;
  const wrong: string[] = [];
  for (const invoice of invoices) {
    const [gross, allocated] = [invoice.gross, invoice.allocated].map((value) => Math.round(Number(value) * 10_000)) as [number, number];
    const describe = `${invoice.invoiceNumber} (${invoice.status}, gross ${invoice.gross}, allocated ${invoice.allocated}, paid on ${invoice.paidOn}, ${invoice.corrections} stornos)`;
    if ((invoice.status === 'CANCELLED') !== (invoice.corrections === 1)) {
      wrong.push(`${describe}: status and storno disagree`);
      continue;
    }
    if (invoice.status === 'CANCELLED') {
      if (gross > 0 && allocated !== gross) wrong.push(`${describe}: cancelled but its storno does not settle it`);
      continue;
    }
    const expected = gross <= 0 || allocated >= gross ? 'PAID' : allocated > 0 ? 'PARTIAL' : 'OPEN';
    if (invoice.status !== expected) wrong.push(`${describe}: its allocations make it ${expected}`);
    else if ((invoice.status === 'PAID') !== (invoice.paidOn !== null)) wrong.push(`${describe}: paid_on disagrees with the status`);
  }
  listSome(problems, wrong, (line) => `open items: ${line}`);
  return problems;
}

/**
 * How often each day of each item is billed, net of corrections: lines of invoices that are not cancelled,
 * charges count +1 per day they cover, credits −1. After any sequence of commands every active day must
 * come out as exactly 1.
 */
export async function netBilledDays(sql: Sql, contractId: string): Promise<Map<string, Map<string, number>>> {
  const lines = await sql<{ itemNumber: string; periodStart: string; periodEnd: string; negative: boolean }[]>`
    select l.item_number as "itemNumber", l.period_start as "periodStart", l.period_end as "periodEnd", l.net_amount < 0 as negative
    from invoice_lines l join invoices i on i.id = l.invoice_id
    join activities a on a.id = l.activity_id
    where i.contract_id = ${contractId} and i.status <> 'CANCELLED' and a.origin not in ('MANUAL', 'DISCOUNT')`;
  const counts = new Map<string, Map<string, number>>();
  for (const line of lines) {
    const days = counts.get(line.itemNumber) ?? new Map<string, number>();
    counts.set(line.itemNumber, days);
    for (let day = line.periodStart; day < line.periodEnd; day = nextDay(day)) {
      days.set(day, (days.get(day) ?? 0) + (line.negative ? -1 : 1));
    }
  }
  return counts;
}

/** The days of `[from, until)` whose net billing count is not exactly `expected`. */
export async function daysNotBilledOnce(sql: Sql, contractId: string, itemNumber: string, from: string, until: string, expected = 1): Promise<string[]> {
  const days = (await netBilledDays(sql, contractId)).get(itemNumber) ?? new Map<string, number>();
  const wrong: string[] = [];
  for (let day = from; day < until; day = nextDay(day)) {
    if ((days.get(day) ?? 0) !== expected) wrong.push(`${day}: ${days.get(day) ?? 0}`);
  }
  for (const [day, count] of days) {
    if ((day < from || day >= until) && count !== 0) wrong.push(`${day}: ${count} (outside the active time)`);
  }
  return wrong;
}

/**
 * Like {@link netBilledDays}, weighted by quantity: a charge adds its quantity to every day it covers, a
 * credit takes it off. After an up- or downgrade each day must come out at the quantity it had.
 */
export async function netBilledQuantities(sql: Sql, contractId: string, itemNumber: string): Promise<Map<string, number>> {
  const lines = await sql<{ periodStart: string; periodEnd: string; quantity: string; negative: boolean }[]>`
    select l.period_start as "periodStart", l.period_end as "periodEnd", l.quantity, l.net_amount < 0 as negative
    from invoice_lines l join invoices i on i.id = l.invoice_id
    join activities a on a.id = l.activity_id
    where i.contract_id = ${contractId} and i.status <> 'CANCELLED' and a.origin not in ('MANUAL', 'DISCOUNT') and l.item_number = ${itemNumber}`;
  const days = new Map<string, number>();
  for (const line of lines) {
    // quantities in these scenarios are whole numbers, so plain numbers count them exactly
    const quantity = Number(line.quantity) * (line.negative ? -1 : 1);
    for (let day = line.periodStart; day < line.periodEnd; day = nextDay(day)) days.set(day, (days.get(day) ?? 0) + quantity);
  }
  return days;
}

/** The days whose net billed quantity differs from `expected(day)`, which is 0 outside the active time. */
export async function daysBilledOtherThan(sql: Sql, contractId: string, itemNumber: string, expected: (day: string) => number, from: string, until: string): Promise<string[]> {
  const days = await netBilledQuantities(sql, contractId, itemNumber);
  const wrong: string[] = [];
  for (let day = from; day < until; day = nextDay(day)) {
    if ((days.get(day) ?? 0) !== expected(day)) wrong.push(`${day}: ${days.get(day) ?? 0} instead of ${expected(day)}`);
  }
  for (const [day, quantity] of days) {
    if ((day < from || day >= until) && quantity !== 0) wrong.push(`${day}: ${quantity} (outside ${from}..${until})`);
  }
  return wrong;
}

function nextDay(date: string): string {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
}

/**
 * The checks below look at one project's books as a whole, after a run in which faults struck (the chaos
 * run, bench/chaos-run.ts). Each returns what it found wrong, in words, and the figures it counted.
 */

const LISTED = 10;

function listSome<T>(problems: string[], rows: T[], describe: (row: T) => string): void {
  for (const row of rows.slice(0, LISTED)) problems.push(describe(row));
  if (rows.length > LISTED) problems.push(`… and ${rows.length - LISTED} more like the above`);
}

const DAY_MS = 86_400_000;
const epochDay = (date: string): number => Date.parse(`${date}T00:00:00Z`) / DAY_MS;
const dateOfEpochDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

interface Span {
  start: number;
  end: number;
}

/** The spans merged where they touch or overlap, in order. */
function mergeSpans(spans: Span[]): Span[] {
  const merged: Span[] = [];
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const last = merged[merged.length - 1];
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/** The first day of `[from, until)` that none of the merged, ordered spans covers; null when they cover it all. */
function firstUncoveredDay(covered: Span[], from: number, until: number): number | null {
  let cursor = from;
  for (const span of covered) {
    if (cursor >= until) break;
    if (span.end <= cursor) continue;
    if (span.start > cursor) return cursor;
    cursor = span.end;
  }
  return cursor < until ? cursor : null;
}

export interface DueBillingFindings {
  problems: string[];
  contracts: number;
  /** Subscription charges due by the day checked (one per period, or per part of one around a pause). */
  chargesDue: number;
  /** Of those, on exactly one invoice line. */
  chargesBilledOnce: number;
  /** Pause credits and prorations (negative activities correcting a billed charge). */
  credits: number;
}

interface StoredActivityRow {
  id: string;
  contractId: string;
  key: string;
  itemNumber: string;
  origin: string;
  periodStart: string;
  periodEnd: string;
  dueDate: string;
  invoiceContractId: string | null;
  correctsKey: string | null;
  lines: number;
}

interface PauseRow {
  contractId: string;
  fromDate: string;
  untilDate: string;
  itemNumbers: string[] | null;
}

/**
 * Exactly one invoice per due period: for every contract billed in advance, each day from its start
 * through `asOf` is charged by exactly one subscription activity of each item, or lies in a delivery
 * pause; every charge due by `asOf` stands on exactly one invoice line, of an invoice of its own contract
 * (a storno leaves it there: the cancelled invoice stays the period's one invoice); no activity of any
 * kind is on two invoice lines, and no day of a charge is given back twice by the credits correcting it.
 */
export async function checkDueBilling(sql: Sql, projectId: string, asOf: string): Promise<DueBillingFindings> {
  const problems: string[] = [];
  const contracts = await sql<{ id: string; contractNumber: string; startDate: string; endDate: string | null; inAdvance: boolean }[]>`
    select id, contract_number as "contractNumber", start_date as "startDate", end_date as "endDate", invoice_in_advance as "inAdvance"
    from contracts where project_id = ${projectId} order by id`;
  const activities = await sql<StoredActivityRow[]>`
    select a.id, a.contract_id as "contractId", a.activity_key as key, a.item_number as "itemNumber", a.origin,
      a.period_start as "periodStart", a.period_end as "periodEnd", a.due_date as "dueDate",
      i.contract_id as "invoiceContractId", a.corrects_key as "correctsKey",
      (select count(*)::int from invoice_lines l where l.activity_id = a.id) as lines
    from activities a join contracts c on c.id = a.contract_id left join invoices i on i.id = a.invoice_id
    where c.project_id = ${projectId} and a.superseded_at is null`;
  const pauses = await sql<PauseRow[]>`
    select p.contract_id as "contractId", p.from_date as "fromDate", p.until_date as "untilDate", p.item_numbers as "itemNumbers"
    from delivery_pauses p join contracts c on c.id = p.contract_id where c.project_id = ${projectId}`;

  const byContract = new Map<string, StoredActivityRow[]>();
  for (const activity of activities) byContract.set(activity.contractId, [...(byContract.get(activity.contractId) ?? []), activity]);
  const pausesOf = new Map<string, PauseRow[]>();
  for (const pause of pauses) pausesOf.set(pause.contractId, [...(pausesOf.get(pause.contractId) ?? []), pause]);

  const twice: string[] = [];
  const uncovered: string[] = [];
  const notBilledOnce: string[] = [];
  const foreign: string[] = [];
  const onTwoLines: string[] = [];
  const overCredited: string[] = [];
  let chargesDue = 0;
  let chargesBilledOnce = 0;
  let credits = 0;
  const lastDay = epochDay(asOf) + 1;

  for (const contract of contracts) {
    const own = byContract.get(contract.id) ?? [];
    for (const activity of own) {
      if (activity.lines > 1) onTwoLines.push(`${contract.contractNumber} ${activity.key} is on ${activity.lines} invoice lines`);
      if (activity.invoiceContractId !== null && activity.invoiceContractId !== contract.id) {
        foreign.push(`${contract.contractNumber} ${activity.key} is billed on an invoice of another contract`);
      }
    }
    const charges = own.filter((activity) => activity.origin === 'SUBSCRIPTION');
    const items = [...new Set(charges.map((charge) => charge.itemNumber))];
    const until = Math.min(lastDay, contract.endDate === null ? Infinity : epochDay(contract.endDate));
    if (items.length === 0 && contract.inAdvance && epochDay(contract.startDate) < until) {
      uncovered.push(`${contract.contractNumber} has no subscription charge at all although it started ${contract.startDate}`);
    }
    for (const itemNumber of items) {
      const spans = charges
        .filter((charge) => charge.itemNumber === itemNumber)
        .map((charge) => ({ charge, start: epochDay(charge.periodStart), end: epochDay(charge.periodEnd) }))
        .sort((a, b) => a.start - b.start);
      for (let index = 1; index < spans.length; index += 1) {
        if (spans[index]!.start < spans[index - 1]!.end) {
          twice.push(`${contract.contractNumber} ${itemNumber}: ${spans[index - 1]!.charge.key} and ${spans[index]!.charge.key} charge the same days`);
        }
      }
      if (contract.inAdvance) {
        const paused = (pausesOf.get(contract.id) ?? [])
          .filter((pause) => pause.itemNumbers === null || pause.itemNumbers.includes(itemNumber))
          .map((pause) => ({ start: epochDay(pause.fromDate), end: epochDay(pause.untilDate) }));
        const missing = firstUncoveredDay(mergeSpans([...spans, ...paused]), epochDay(contract.startDate), until);
        if (missing !== null) {
          uncovered.push(`${contract.contractNumber} ${itemNumber}: ${dateOfEpochDay(missing)} is charged by no subscription activity and lies in no pause`);
        }
      }
    }
    for (const charge of charges) {
      if (charge.dueDate > asOf) continue;
      chargesDue += 1;
      if (charge.lines === 1 && charge.invoiceContractId !== null) chargesBilledOnce += 1;
      else notBilledOnce.push(`${contract.contractNumber} ${charge.key} (due ${charge.dueDate}) is on ${charge.lines} invoice lines`);
    }
    const corrections = own.filter((activity) => activity.correctsKey !== null);
    credits += corrections.length;
    const byCharge = new Map<string, Span[]>();
    for (const correction of corrections) {
      byCharge.set(correction.correctsKey!, [...(byCharge.get(correction.correctsKey!) ?? []), { start: epochDay(correction.periodStart), end: epochDay(correction.periodEnd) }]);
    }
    for (const [chargeKey, spans] of byCharge) {
      const days = spans.reduce((sum, span) => sum + span.end - span.start, 0);
      const distinct = mergeSpans(spans).reduce((sum, span) => sum + span.end - span.start, 0);
      if (days !== distinct) overCredited.push(`${contract.contractNumber} ${chargeKey}: ${days - distinct} days given back more than once`);
    }
  }
  listSome(problems, twice, (line) => `due billing: ${line}`);
  listSome(problems, uncovered, (line) => `due billing: ${line}`);
  listSome(problems, notBilledOnce, (line) => `due billing: ${line}`);
  listSome(problems, foreign, (line) => `due billing: ${line}`);
  listSome(problems, onTwoLines, (line) => `double billing: ${line}`);
  listSome(problems, overCredited, (line) => `double credit: ${line}`);
  return { problems, contracts: contracts.length, chargesDue, chargesBilledOnce, credits };
}

export interface NumberRangeFindings {
  problems: string[];
  /** Numbers missing from a range (taken and thrown away, or skipped) and numbers used twice. */
  gaps: number;
  invoices: number;
  corrections: number;
}

/** Invoice and correction numbers of the project: 1..n in each year without a hole, n the range's counter. */
export async function checkNumberRanges(sql: Sql, projectId: string): Promise<NumberRangeFindings> {
  const problems: string[] = [];
  const ranges = await sql<{ kind: string; year: string; count: number; distinct: number; highest: number; lowest: number; taken: number | null }[]>`
    with numbered as (
      select 'INVOICE' as kind, invoice_number as number from invoices where project_id = ${projectId}
      union all
      select 'INVOICE_CORRECTION', correction_number from invoice_corrections where project_id = ${projectId}),
    parts as (
      select kind, substring(number from 4 for 4) as year, substring(number from 9)::int as sequence, number from numbered)
    select p.kind, p.year, count(*)::int as count, count(distinct p.number)::int as distinct,
      max(p.sequence) as highest, min(p.sequence) as lowest,
      (select r.last_value::int from number_ranges r where r.project_id = ${projectId} and r.kind = p.kind and r.year = p.year::int) as taken
    from parts p group by p.kind, p.year order by p.kind, p.year`;
  let gaps = 0;
  for (const range of ranges) {
    const missing = Math.max(range.highest - range.count, (range.taken ?? range.count) - range.count, range.lowest - 1, 0) + (range.count - range.distinct);
    gaps += missing;
    if (missing > 0) {
      problems.push(
        `number range ${range.kind} ${range.year}: ${range.count} documents (${range.distinct} distinct numbers) numbered ${range.lowest}..${range.highest}, ${range.taken} taken from the range`,
      );
    }
  }
  const count = (kind: string) => ranges.filter((range) => range.kind === kind).reduce((sum, range) => sum + range.count, 0);
  return { problems, gaps, invoices: count('INVOICE'), corrections: count('INVOICE_CORRECTION') };
}

export interface LedgerFindings {
  problems: string[];
  accounts: number;
  entries: number;
  /** Entries that are not an invoice, storno or payment (opening balances, manual bookings, top-ups). */
  otherEntries: number;
  mismatches: number;
}

/**
 * Ledger = documents: each invoice is booked exactly once at minus its gross on its own account, each
 * storno once at plus the invoice's gross, each booked payment once at its amount; no entry books
 * anything else twice or books a document of another account; and so each account's balance (the sum of
 * its ledger, nothing else stores it) is what its documents make it.
 */
export async function checkLedger(sql: Sql, projectId: string): Promise<LedgerFindings> {
  const problems: string[] = [];
  const [counts] = await sql<{ accounts: number; entries: number; other: number }[]>`
    select (select count(*)::int from accounts where project_id = ${projectId}) as accounts,
      count(e.id)::int as entries,
      count(e.id) filter (where e.entry_type not in ('INVOICE', 'CORRECTION', 'PAYMENT'))::int as other
    from ledger_entries e join accounts a on a.id = e.account_id where a.project_id = ${projectId}`;

  const invoices = await sql<{ invoiceNumber: string; entries: number; matching: number }[]>`
    select i.invoice_number as "invoiceNumber",
      (select count(*)::int from ledger_entries e where e.invoice_id = i.id and e.entry_type = 'INVOICE') as entries,
      (select count(*)::int from ledger_entries e where e.invoice_id = i.id and e.entry_type = 'INVOICE'
        and e.amount = -i.gross_total and e.account_id = i.account_id) as matching
    from invoices i where i.project_id = ${projectId}`;
  const badInvoices = invoices.filter((row) => row.entries !== 1 || row.matching !== 1);
  listSome(problems, badInvoices, (row) => `ledger: invoice ${row.invoiceNumber} has ${row.entries} INVOICE entries, ${row.matching} of them for −gross on its account`);

  const corrections = await sql<{ correctionNumber: string; entries: number; matching: number }[]>`
    select c.correction_number as "correctionNumber",
      (select count(*)::int from ledger_entries e where e.correction_id = c.id and e.entry_type = 'CORRECTION') as entries,
      (select count(*)::int from ledger_entries e join invoices i on i.id = c.invoice_id
        where e.correction_id = c.id and e.entry_type = 'CORRECTION' and e.amount = i.gross_total and e.amount = -c.gross_total
          and e.account_id = i.account_id and e.invoice_id = i.id) as matching
    from invoice_corrections c where c.project_id = ${projectId}`;
  const badCorrections = corrections.filter((row) => row.entries !== 1 || row.matching !== 1);
  listSome(problems, badCorrections, (row) => `ledger: storno ${row.correctionNumber} has ${row.entries} CORRECTION entries, ${row.matching} of them for +gross of its invoice on its account`);

  const payments = await sql<{ businessKey: string; outcome: string; booked: boolean; entries: number; matching: number }[]>`
    select p.business_key as "businessKey", p.outcome, p.ledger_entry_id is not null as booked,
      (select count(*)::int from ledger_entries e where e.account_id = p.account_id and e.business_key = 'payment:' || p.business_key) as entries,
      (select count(*)::int from ledger_entries e where e.id = p.ledger_entry_id and e.entry_type = 'PAYMENT'
        and e.amount = p.amount and e.account_id = p.account_id) as matching
    from payments p where p.project_id = ${projectId}`;
  const badPayments = payments.filter((row) => (row.booked ? row.entries !== 1 || row.matching !== 1 : row.entries !== 0));
  listSome(problems, badPayments, (row) => `ledger: payment ${row.businessKey} (${row.outcome}) has ${row.entries} PAYMENT entries, ${row.matching} for its amount on its account`);

  const stray = await sql<{ accountNumber: string; entryType: string; businessKey: string }[]>`
    select a.account_number as "accountNumber", e.entry_type as "entryType", e.business_key as "businessKey"
    from ledger_entries e join accounts a on a.id = e.account_id
    where a.project_id = ${projectId} and (
      (e.entry_type = 'INVOICE' and not exists (select 1 from invoices i where i.id = e.invoice_id and i.account_id = e.account_id))
      or (e.entry_type = 'CORRECTION' and not exists (select 1 from invoice_corrections c where c.id = e.correction_id))
      or (e.entry_type = 'PAYMENT' and not exists (select 1 from payments p where p.ledger_entry_id = e.id)))`;
  listSome(problems, stray, (row) => `ledger: ${row.entryType} entry ${row.businessKey} on account ${row.accountNumber} books no document of that account`);

  // the balance the books show (the ledger's sum) against the documents' amounts
  const unbalanced = await sql<{ accountNumber: string; ledger: string; documents: string }[]>`
    with sums as (
      select a.account_number as "accountNumber",
        coalesce((select sum(e.amount) from ledger_entries e where e.account_id = a.id), 0) as ledger,
        - coalesce((select sum(i.gross_total) from invoices i where i.account_id = a.id), 0)
        + coalesce((select sum(i.gross_total) from invoice_corrections c join invoices i on i.id = c.invoice_id where i.account_id = a.id), 0)
        + coalesce((select sum(p.amount) from payments p where p.account_id = a.id), 0)
        + coalesce((select sum(e.amount) from ledger_entries e where e.account_id = a.id and e.entry_type not in ('INVOICE', 'CORRECTION', 'PAYMENT')), 0)
          as documents
      from accounts a where a.project_id = ${projectId})
    select "accountNumber", ledger::text as ledger, documents::text as documents from sums where ledger <> documents`;
  listSome(problems, unbalanced, (row) => `ledger: account ${row.accountNumber} has balance ${row.ledger}, its documents make it ${row.documents}`);

  const repeated = await sql<{ accountNumber: string; businessKey: string; copies: number }[]>`
    select a.account_number as "accountNumber", e.business_key as "businessKey", count(*)::int as copies
    from ledger_entries e join accounts a on a.id = e.account_id
    where a.project_id = ${projectId} group by a.account_number, e.business_key having count(*) > 1`;
  listSome(problems, repeated, (row) => `ledger: ${row.businessKey} booked ${row.copies} times on account ${row.accountNumber}`);

  return {
    problems,
    accounts: counts?.accounts ?? 0,
    entries: counts?.entries ?? 0,
    otherEntries: counts?.other ?? 0,
    mismatches: badInvoices.length + badCorrections.length + badPayments.length + stray.length + unbalanced.length + repeated.length,
  };
}

export interface OpenItemFindings {
  problems: string[];
  invoices: number;
  open: number;
  partial: number;
  paid: number;
  cancelled: number;
  /** Invoices that payments were allocated to. */
  withPayments: number;
  mismatches: number;
}

/**
 * Open items of one project: the invariants of {@link checkAllocations} (a payment's entry, like every
 * credit, never has more allocated than its amount, and only to items of its own account), with the
 * invoices counted by status.
 */
export async function checkOpenItems(sql: Sql, projectId: string): Promise<OpenItemFindings> {
  const problems = await checkAllocations(sql, projectId);
  const invoices = await sql<{ status: string; payments: number }[]>`
    select i.status,
      (select count(*)::int from allocations al join ledger_entries e on e.id = al.debit_entry_id join ledger_entries c on c.id = al.credit_entry_id
        where e.invoice_id = i.id and e.entry_type = 'INVOICE' and c.entry_type = 'PAYMENT') as payments
    from invoices i where i.project_id = ${projectId}`;
  const count = (status: string) => invoices.filter((invoice) => invoice.status === status).length;
  return {
    problems,
    invoices: invoices.length,
    open: count('OPEN'),
    partial: count('PARTIAL'),
    paid: count('PAID'),
    cancelled: count('CANCELLED'),
    withPayments: invoices.filter((invoice) => invoice.payments > 0).length,
    mismatches: problems.length,
  };
}

export interface MailLogFindings {
  problems: string[];
  /** Invoices whose mail is logged SENT. */
  sent: number;
  /** FAILED or UNCERTAIN with the reason in the log: a refused, unsendable or cut-off mail, shown by GET /MailLog. */
  failedVisibly: number;
  /** PENDING or COMMITTING at the end, or FAILED without a reason: a mail whose fate the log does not tell. */
  unaccounted: number;
  /** Mails that needed more than one attempt (a kill, a restart or an abandoned commit in between). */
  retried: number;
  /** Mails whose attempt was cut off after COMMITTING: UNCERTAIN in the log, for an operator to re-send. */
  uncertain: number;
}

/**
 * The mail log: exactly one INVOICE row per invoice and none for anything else, each SENT or visibly
 * FAILED (with its reason); nothing left PENDING or COMMITTING once the engine is idle.
 */
export async function checkMailLog(sql: Sql, projectId: string): Promise<MailLogFindings> {
  const problems: string[] = [];
  const rows = await sql<{ invoiceNumber: string | null; businessKey: string | null; rows: number; sent: number; failedVisibly: number; unaccounted: number; retried: number; uncertain: number }[]>`
    select i.invoice_number as "invoiceNumber", m.business_key as "businessKey", count(m.id)::int as rows,
      count(m.id) filter (where m.status = 'SENT')::int as sent,
      count(m.id) filter (where m.status in ('FAILED', 'UNCERTAIN') and coalesce(m.error, '') <> '')::int as "failedVisibly",
      count(m.id) filter (where m.status in ('PENDING', 'COMMITTING') or (m.status = 'FAILED' and coalesce(m.error, '') = ''))::int as unaccounted,
      count(m.id) filter (where m.attempts > 1)::int as retried,
      count(m.id) filter (where m.status = 'UNCERTAIN')::int as uncertain
    from (select * from invoices where project_id = ${projectId}) i
    full join (select * from mail_log where project_id = ${projectId} and kind = 'INVOICE') m on m.business_key = i.invoice_number
    group by 1, 2`;
  const notOnce = rows.filter((row) => row.invoiceNumber === null || row.rows !== 1 || row.sent + row.failedVisibly !== 1);
  listSome(problems, notOnce, (row) =>
    row.invoiceNumber === null
      ? `mail log: ${row.businessKey} logged for no invoice`
      : `mail log: invoice ${row.invoiceNumber} has ${row.rows} rows, ${row.sent} SENT, ${row.failedVisibly} FAILED with a reason`,
  );
  const stuck = await sql<{ kind: string; businessKey: string; status: string; attempts: number }[]>`
    select kind, business_key as "businessKey", status, attempts from mail_log
    where project_id = ${projectId} and (status in ('PENDING', 'COMMITTING') or (status = 'FAILED' and coalesce(error, '') = ''))`;
  listSome(problems, stuck, (row) => `mail log: ${row.kind} mail ${row.businessKey} is ${row.status} after ${row.attempts} attempts${row.status === 'FAILED' ? ' and names no reason' : ''}`);
  const known = (row: (typeof rows)[number]) => row.invoiceNumber !== null;
  return {
    problems,
    sent: rows.filter(known).reduce((sum, row) => sum + row.sent, 0),
    failedVisibly: rows.filter(known).reduce((sum, row) => sum + row.failedVisibly, 0),
    unaccounted: stuck.length,
    retried: rows.reduce((sum, row) => sum + row.retried, 0),
    uncertain: rows.reduce((sum, row) => sum + row.uncertain, 0),
  };
}
