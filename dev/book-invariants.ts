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

  const doubleMails = await sql<{ businessKey: string }[]>`
    select business_key as "businessKey" from mail_log where kind = 'INVOICE' group by project_id, business_key having count(*) > 1`;
  for (const mail of doubleMails) problems.push(`invoice mail ${mail.businessKey} logged twice`);
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
    where i.contract_id = ${contractId} and i.status <> 'CANCELLED' and a.origin <> 'MANUAL'`;
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
    where i.contract_id = ${contractId} and i.status <> 'CANCELLED' and a.origin <> 'MANUAL' and l.item_number = ${itemNumber}`;
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
