import type { IntervalUnit } from '../billing/types';
import type { Sql } from '../db/client';
import { insertContract } from '../db/queries/contracts';
import { takeNextNumber } from '../db/numbers';

/** Master data written straight into the books, for workflow tests that do not go through the API. */

export async function seedCustomerWithAccount(
  sql: Sql,
  projectId: string,
  account: { type?: 'POSTPAID' | 'PREPAID'; creditLimit?: string; openingBalance?: string; currency?: string; email?: string } = {},
): Promise<{ customerId: string; customerNumber: string; accountId: string; accountNumber: string }> {
  return sql.begin(async (tx) => {
    const customerNumber = await takeNextNumber(tx, projectId, 'CUSTOMER', '2000-01-01');
    const [customer] = await tx<{ id: string }[]>`
      insert into customers (project_id, customer_number, company_name, email, address_line1, zip_code, city_name, country)
      values (${projectId}, ${customerNumber}, ${`Kunde ${customerNumber} GmbH`}, ${account.email ?? `${customerNumber.toLowerCase()}@kunde.test`},
        'Hauptstr. 1', '10115', 'Berlin', 'DE')
      returning id`;
    const accountNumber = await takeNextNumber(tx, projectId, 'ACCOUNT', '2000-01-01');
    const [row] = await tx<{ id: string }[]>`
      insert into accounts (project_id, account_number, customer_id, name, type, currency, credit_limit)
      values (${projectId}, ${accountNumber}, ${customer!.id}, 'Hauptkonto', ${account.type ?? 'POSTPAID'},
        ${account.currency ?? 'EUR'}, ${account.creditLimit ?? '100000'})
      returning id`;
    if (account.openingBalance) {
      await tx`
        insert into ledger_entries (account_id, entry_type, amount, booking_date, text, business_key)
        values (${row!.id}, 'OPENING_BALANCE', ${account.openingBalance}, '2000-01-01', 'Eröffnungssaldo', 'opening')`;
    }
    return { customerId: customer!.id, customerNumber, accountId: row!.id, accountNumber };
  });
}

export async function seedItem(
  sql: Sql,
  projectId: string,
  item: { itemNumber: string; unit: IntervalUnit | 'PIECE'; prices: { price: string; currency?: string; minQuantity?: string; validFrom?: string | null }[]; taxGroup?: string },
): Promise<string> {
  return sql.begin(async (tx) => {
    const taxGroup = item.taxGroup ?? 'DE_STANDARD';
    const [group] = await tx<{ id: string }[]>`
      insert into product_groups (project_id, code, name, tax_group_code, revenue_account)
      values (${projectId}, ${`PG-${taxGroup}`}, ${taxGroup}, ${taxGroup}, '8400')
      on conflict (project_id, code) do update set name = excluded.name
      returning id`;
    const [row] = await tx<{ id: string }[]>`
      insert into items (project_id, item_number, name, unit, product_group_id)
      values (${projectId}, ${item.itemNumber}, ${`Artikel ${item.itemNumber}`}, ${item.unit}, ${group!.id})
      returning id`;
    for (const price of item.prices) {
      await tx`
        insert into item_prices (item_id, price, currency, min_quantity, valid_from)
        values (${row!.id}, ${price.price}, ${price.currency ?? 'EUR'}, ${price.minQuantity ?? '0'}, ${price.validFrom ?? null})`;
    }
    return row!.id;
  });
}

export interface SeededContract {
  contractId: string;
  contractNumber: string;
  customerNumber: string;
  accountId: string;
}

export async function seedContract(
  sql: Sql,
  projectId: string,
  contract: {
    customer: { customerId: string; customerNumber: string; accountId: string };
    startDate: string;
    interval: { count: number; unit: IntervalUnit };
    invoiceInAdvance?: boolean;
    billedUntil?: string | null;
    minimumTerm?: { count: number; unit: IntervalUnit } | null;
    noticePeriod?: { count: number; unit: IntervalUnit } | null;
    extensionPeriod?: { count: number; unit: IntervalUnit } | null;
    items: { itemId: string; quantity?: string; billingFrom?: string | null }[];
  },
): Promise<SeededContract> {
  const created = await sql.begin((tx) =>
    insertContract(tx, {
      projectId,
      customerId: contract.customer.customerId,
      accountId: contract.customer.accountId,
      currency: 'EUR',
      startDate: contract.startDate,
      billingInterval: contract.interval,
      invoiceInAdvance: contract.invoiceInAdvance ?? true,
      extensionPeriod: contract.extensionPeriod ?? null,
      minimumTerm: contract.minimumTerm ?? null,
      noticePeriod: contract.noticePeriod ?? null,
      billedUntil: contract.billedUntil ?? null,
      subscription: contract.items.map((item) => ({ itemId: item.itemId, quantity: item.quantity ?? '1', billingFrom: item.billingFrom ?? null })),
      createdOn: contract.startDate,
    }),
  );
  return { contractId: created.id, contractNumber: created.contractNumber, customerNumber: contract.customer.customerNumber, accountId: contract.customer.accountId };
}

export interface InvoiceRow {
  invoiceNumber: string;
  invoiceDate: string;
  grossTotal: string;
  netTotal: string;
  status: string;
  periods: string;
}

export async function invoicesOf(sql: Sql, contractId: string): Promise<InvoiceRow[]> {
  return sql<InvoiceRow[]>`
    select i.invoice_number as "invoiceNumber", i.invoice_date as "invoiceDate", i.gross_total as "grossTotal",
      i.net_total as "netTotal", i.status,
      string_agg(l.period_start || '..' || l.period_end, ',' order by l.position) as periods
    from invoices i join invoice_lines l on l.invoice_id = i.id
    where i.contract_id = ${contractId}
    group by i.id order by i.id`;
}
