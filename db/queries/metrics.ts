import type { Sql } from '../client';

/** The books' figures that `/metrics` shows, over all projects. */
export interface BusinessFigures {
  invoices: { currency: string; count: number; grossTotal: string }[];
  contracts: { status: string; count: number }[];
  pausedForCreditLimit: number;
  pausedForBillingError: { reason: string; count: number }[];
  failedMails: { kind: string; count: number }[];
}

export async function readBusinessFigures(sql: Sql): Promise<BusinessFigures> {
  const [invoices, contracts, paused, failedMails, pausedForBillingError] = await Promise.all([
    sql<{ currency: string; count: number; grossTotal: string }[]>`
      select currency, count(*)::int as count, sum(gross_total)::text as "grossTotal" from invoices group by currency order by currency`,
    sql<{ status: string; count: number }[]>`select status, count(*)::int as count from contracts group by status`,
    sql<{ count: number }[]>`select count(*)::int as count from contracts where status = 'PAUSED' and pause_reason = 'CREDIT_LIMIT'`,
    sql<{ kind: string; count: number }[]>`select kind, count(*)::int as count from mail_log where status in ('FAILED', 'UNCERTAIN') group by kind`,
    sql<{ reason: string; count: number }[]>`
      select pause_reason as reason, count(*)::int as count from contracts
      where status = 'PAUSED' and pause_reason in ('NO_PRICE_FOUND', 'NO_TAX_RATE') group by pause_reason`,
  ]);
  return { invoices, contracts, pausedForCreditLimit: paused[0]!.count, pausedForBillingError, failedMails };
}
