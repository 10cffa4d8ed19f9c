import type { Sql } from '../../db/client';

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
