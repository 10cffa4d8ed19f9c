import type { Activity, ContractTerms, IntervalUnit, ItemDefinition, StoredActivity, TaxGroup, TaxGroupKind, TaxRegion } from '../../billing/types';
import type { AccountType } from '../../billing/types';
import { chunked, IN_LIST_CHUNK, insertChunks } from '../chunked';
import type { Queryable } from '../client';

/** Everything the billing core needs about one contract, read inside the billing transaction. */
export interface ContractForBilling {
  contractId: string;
  projectId: string;
  contractNumber: string;
  customerId: string;
  customerNumber: string;
  customerEmail: string | null;
  customerName: string;
  dueDays: number;
  account: { id: string; accountNumber: string; type: AccountType; creditLimit: string; currency: string };
  status: string;
  pauseReason: string | null;
  terms: ContractTerms;
  termination: TerminationTerms;
  items: Record<string, ItemDefinition>;
}

export interface TerminationTerms {
  minimumTerm: { count: number; unit: IntervalUnit } | null;
  extensionPeriod: { count: number; unit: IntervalUnit } | null;
  noticePeriod: { count: number; unit: IntervalUnit } | null;
}

interface ContractRow {
  id: string;
  projectId: string;
  contractNumber: string;
  customerId: string;
  customerNumber: string;
  customerEmail: string | null;
  customerName: string;
  taxRegion: TaxRegion;
  euTaxId: string | null;
  country: string | null;
  oneStopShop: boolean;
  duePeriod: number;
  dueUnit: 'DAY' | 'WEEK' | 'MONTH';
  accountId: string;
  accountNumber: string;
  accountType: AccountType;
  creditLimit: string;
  currency: string;
  startDate: string;
  intervalCount: number;
  intervalUnit: IntervalUnit;
  invoiceInAdvance: boolean;
  billedUntil: string | null;
  endDate: string | null;
  status: string;
  pauseReason: string | null;
  minimumTermCount: number | null;
  minimumTermUnit: IntervalUnit | null;
  extensionCount: number | null;
  extensionUnit: IntervalUnit | null;
  noticeCount: number | null;
  noticeUnit: IntervalUnit | null;
}

const DUE_UNIT_DAYS = { DAY: 1, WEEK: 7, MONTH: 30 } as const;

function optionalInterval(count: number | null, unit: IntervalUnit | null) {
  return count !== null && unit !== null ? { count, unit } : null;
}

/**
 * Reads a contract with its subscription history, pauses, items, prices and tax groups. With `lock`, the
 * contract and its account rows stay locked until the transaction ends: billing runs of contracts that
 * share an account queue behind each other, so two invoices never pass the same credit check.
 */
export async function loadContractForBilling(
  sql: Queryable,
  contractId: string,
  options: { lock: boolean },
): Promise<ContractForBilling> {
  if (options.lock) {
    await sql`select 1 from accounts where id = (select account_id from contracts where id = ${contractId}) for update`;
    await sql`select 1 from contracts where id = ${contractId} for update`;
  }
  const [row] = await sql<ContractRow[]>`
    select c.id, c.project_id as "projectId", c.contract_number as "contractNumber",
      cu.id as "customerId", cu.customer_number as "customerNumber", cu.email as "customerEmail",
      coalesce(nullif(cu.company_name, ''), concat_ws(' ', cu.first_name, cu.last_name)) as "customerName",
      cu.tax_region as "taxRegion", cu.eu_tax_id as "euTaxId", upper(trim(cu.country)) as country,
      (select p.one_stop_shop from projects p where p.id = c.project_id) as "oneStopShop", cu.due_period as "duePeriod", cu.due_unit as "dueUnit",
      a.id as "accountId", a.account_number as "accountNumber", a.type as "accountType", a.credit_limit as "creditLimit",
      c.currency, c.start_date as "startDate", c.interval_count as "intervalCount", c.interval_unit as "intervalUnit",
      c.invoice_in_advance as "invoiceInAdvance", c.billed_until as "billedUntil", c.end_date as "endDate",
      c.status, c.pause_reason as "pauseReason",
      c.minimum_term_count as "minimumTermCount", c.minimum_term_unit as "minimumTermUnit",
      c.extension_count as "extensionCount", c.extension_unit as "extensionUnit",
      c.notice_count as "noticeCount", c.notice_unit as "noticeUnit"
    from contracts c join customers cu on cu.id = c.customer_id join accounts a on a.id = c.account_id
    where c.id = ${contractId}`;
  if (!row) throw new Error(`contract ${contractId} does not exist`);

  const lines = await sql<{ itemNumber: string; quantity: string; billingFrom: string | null; validFrom: string; validUntil: string | null }[]>`
    select i.item_number as "itemNumber", s.quantity, s.billing_from as "billingFrom", s.valid_from as "validFrom", s.valid_until as "validUntil"
    from subscription_lines s join items i on i.id = s.item_id
    where s.contract_id = ${contractId} order by s.id`;
  const pauses = await sql<{ from: string; until: string; itemNumbers: string[] | null }[]>`
    select from_date as "from", until_date as "until", item_numbers as "itemNumbers"
    from delivery_pauses where contract_id = ${contractId} order by from_date`;
  const items = await loadItemDefinitions(sql, row.projectId, [...new Set(lines.map((line) => line.itemNumber))]);

  return {
    contractId: row.id,
    projectId: row.projectId,
    contractNumber: row.contractNumber,
    customerId: row.customerId,
    customerNumber: row.customerNumber,
    customerEmail: row.customerEmail,
    customerName: row.customerName,
    dueDays: row.duePeriod * DUE_UNIT_DAYS[row.dueUnit],
    account: { id: row.accountId, accountNumber: row.accountNumber, type: row.accountType, creditLimit: row.creditLimit, currency: row.currency },
    status: row.status,
    pauseReason: row.pauseReason,
    terms: {
      contractNumber: row.contractNumber,
      currency: row.currency,
      startDate: row.startDate,
      billingInterval: { count: row.intervalCount, unit: row.intervalUnit },
      invoiceInAdvance: row.invoiceInAdvance,
      billedUntil: row.billedUntil,
      endDate: row.endDate,
      subscription: lines.map((line) => ({ ...line })),
      pauses: pauses.map((pause) => ({ ...pause })),
      customer: { taxRegion: row.taxRegion, euTaxId: row.euTaxId, country: row.country, oneStopShop: row.oneStopShop },
    },
    termination: {
      minimumTerm: optionalInterval(row.minimumTermCount, row.minimumTermUnit),
      extensionPeriod: optionalInterval(row.extensionCount, row.extensionUnit),
      noticePeriod: optionalInterval(row.noticeCount, row.noticeUnit),
    },
    items,
  };
}

export async function loadItemDefinitions(
  sql: Queryable,
  projectId: string,
  itemNumbers: string[],
): Promise<Record<string, ItemDefinition>> {
  type ItemRow = {
    id: string;
    itemNumber: string;
    name: string;
    unit: ItemDefinition['unit'];
    supplyType: ItemDefinition['supplyType'];
    taxGroupCode: string;
    taxGroupName: string;
    taxGroupKind: TaxGroupKind;
  };
  type PriceRow = { itemId: string; price: string; currency: string; minQuantity: string; validFrom: string | null };
  const rows: ItemRow[] = [];
  for (const chunk of chunked(itemNumbers, IN_LIST_CHUNK)) {
    const found = await sql<ItemRow[]>`
      select i.id, i.item_number as "itemNumber", i.name, i.unit, i.supply_type as "supplyType",
        tg.code as "taxGroupCode", tg.name as "taxGroupName", tg.kind as "taxGroupKind"
      from items i join product_groups pg on pg.id = i.product_group_id join tax_groups tg on tg.code = pg.tax_group_code
      where i.project_id = ${projectId} and i.item_number in ${sql(chunk)}`;
    for (const row of found) rows.push(row);
  }
  const pricesOf = new Map<string, PriceRow[]>();
  for (const chunk of chunked(rows.map((row) => row.id), IN_LIST_CHUNK)) {
    const prices = await sql<PriceRow[]>`
      select item_id as "itemId", price, currency, min_quantity as "minQuantity", valid_from as "validFrom"
      from item_prices where item_id in ${sql(chunk)} order by id`;
    for (const price of prices) {
      const list = pricesOf.get(price.itemId);
      if (list) list.push(price);
      else pricesOf.set(price.itemId, [price]);
    }
  }
  const taxGroups = await loadTaxGroups(sql, [...new Set(rows.map((row) => row.taxGroupCode))]);
  const items: Record<string, ItemDefinition> = {};
  for (const row of rows) {
    items[row.itemNumber] = {
      itemNumber: row.itemNumber,
      name: row.name,
      unit: row.unit,
      supplyType: row.supplyType,
      taxGroup: taxGroups[row.taxGroupCode]!,
      prices: (pricesOf.get(row.id) ?? []).map(({ price, currency, minQuantity, validFrom }) => ({ price, currency: currency.trim(), minQuantity, validFrom })),
    };
  }
  return items;
}

export async function loadTaxGroups(sql: Queryable, codes: string[]): Promise<Record<string, TaxGroup>> {
  const groups: { code: string; name: string; kind: TaxGroupKind }[] = [];
  const rates: { code: string; rate: string; validFrom: string | null }[] = [];
  for (const chunk of chunked(codes, IN_LIST_CHUNK)) {
    groups.push(...(await sql<{ code: string; name: string; kind: TaxGroupKind }[]>`
      select code, name, kind from tax_groups where code in ${sql(chunk)}`));
    rates.push(...(await sql<{ code: string; rate: string; validFrom: string | null }[]>`
      select tax_group_code as code, rate, valid_from as "validFrom" from tax_rates
      where tax_group_code in ${sql(chunk)} order by valid_from nulls first`));
  }
  return Object.fromEntries(
    groups.map((group) => [
      group.code,
      { ...group, rates: rates.filter((rate) => rate.code === group.code).map(({ rate, validFrom }) => ({ rate, validFrom })) },
    ]),
  );
}

const ACTIVITY_COLUMNS = (sql: Queryable) => sql`
  a.id, a.activity_key as key, a.item_number as "itemNumber", a.description, a.quantity, a.unit_price as "unitPrice",
  a.amount, a.period_start as "periodStart", a.period_end as "periodEnd", a.origin, a.due_date as "dueDate",
  a.tax_category as "taxCategory", a.tax_rate as "taxRate", a.tax_notice as "taxNotice", a.corrects_key as "correctsKey",
  a.invoice_id as "invoiceId", (i.status = 'CANCELLED') as "onCancelledInvoice"`;

interface ActivityRow {
  id: string;
  key: string;
  itemNumber: string;
  description: string;
  quantity: string;
  unitPrice: string;
  amount: string;
  periodStart: string;
  periodEnd: string;
  origin: Activity['origin'];
  dueDate: string;
  taxCategory: Activity['tax']['category'];
  taxRate: string;
  taxNotice: string | null;
  correctsKey: string | null;
  invoiceId: string | null;
  onCancelledInvoice: boolean | null;
}

function toStoredActivity(row: ActivityRow): StoredActivity & { invoiceId: string | null } {
  return {
    id: row.id,
    key: row.key,
    itemNumber: row.itemNumber,
    description: row.description,
    quantity: row.quantity,
    unitPrice: row.unitPrice,
    amount: row.amount,
    periodStart: row.periodStart,
    periodEnd: row.periodEnd,
    origin: row.origin,
    dueDate: row.dueDate,
    tax: { category: row.taxCategory, rate: row.taxRate, notice: row.taxNotice },
    correctsKey: row.correctsKey,
    billed: row.invoiceId !== null,
    onCancelledInvoice: row.onCancelledInvoice === true,
    invoiceId: row.invoiceId,
  };
}

/** The contract's activities that count for billing: every one not superseded by a re-billing or change. */
export async function loadStoredActivities(sql: Queryable, contractId: string): Promise<(StoredActivity & { invoiceId: string | null })[]> {
  const rows = await sql<ActivityRow[]>`
    select ${ACTIVITY_COLUMNS(sql)}
    from activities a left join invoices i on i.id = a.invoice_id
    where a.contract_id = ${contractId} and a.superseded_at is null
    order by a.period_start, a.item_number, a.id`;
  return rows.map(toStoredActivity);
}

/**
 * Inserts new activities, in statements of at most 30,000 parameters; one that exists already under its
 * business key is left as it is.
 */
export async function insertActivities(sql: Queryable, contractId: string, activities: Activity[]): Promise<number> {
  if (activities.length === 0) return 0;
  const rows = activities.map((activity) => ({
    contract_id: contractId,
    activity_key: activity.key,
    item_number: activity.itemNumber,
    description: activity.description,
    quantity: activity.quantity,
    unit_price: activity.unitPrice,
    amount: activity.amount,
    period_start: activity.periodStart,
    period_end: activity.periodEnd,
    origin: activity.origin,
    due_date: activity.dueDate,
    tax_category: activity.tax.category,
    tax_rate: activity.tax.rate,
    tax_notice: activity.tax.notice,
    corrects_key: activity.correctsKey,
  }));
  let inserted = 0;
  for (const chunk of insertChunks(rows)) {
    const stored = await sql`
      insert into activities ${sql(chunk)}
      on conflict (contract_id, activity_key) where superseded_at is null do nothing
      returning id`;
    inserted += stored.length;
  }
  return inserted;
}

/** Unbilled activities no longer wanted (a pause or change came after they were generated). */
export async function supersedeActivities(sql: Queryable, contractId: string, activityIds: string[], reason: string): Promise<number> {
  let superseded = 0;
  for (const ids of chunked(activityIds, IN_LIST_CHUNK)) {
    const recorded = await sql`
      with removed as (
        update activities a set superseded_at = now()
        where a.contract_id = ${contractId} and a.id in ${sql(ids)} and a.invoice_id is null and a.superseded_at is null
        returning a.*
      )
      insert into activity_deletions (contract_id, activity_id, activity, reason)
      select removed.contract_id, removed.id, to_jsonb(removed), ${reason} from removed
      returning id`;
    superseded += recorded.length;
  }
  return superseded;
}

/**
 * Re-billing from `from`: service from `from` on that stands on a cancelled invoice (cancelled now or by an
 * earlier storno) leaves the books, so that it is generated again. Manual activities are not generated, so
 * they stay where they are.
 */
export async function releaseCancelledActivitiesFrom(sql: Queryable, contractId: string, from: string): Promise<void> {
  await sql`
    update activities a set superseded_at = now()
    from invoices i
    where i.id = a.invoice_id and a.contract_id = ${contractId} and a.superseded_at is null and i.status = 'CANCELLED'
      and a.period_start >= ${from} and a.origin <> 'MANUAL'`;
}

/** Re-billing from `from`: unbilled generated service from `from` on leaves the books, to be generated again. */
export async function releaseUnbilledActivitiesFrom(sql: Queryable, contractId: string, from: string): Promise<void> {
  await sql`
    update activities set superseded_at = now()
    where contract_id = ${contractId} and invoice_id is null and superseded_at is null
      and origin in ('SUBSCRIPTION', 'CREDIT', 'PRORATION') and period_start >= ${from}`;
}

/**
 * Takes what the given (cancelled) invoices still bill off them and books each activity again, unbilled and
 * due on `dueDate`, as it was. Returns how many were booked again.
 */
export async function rebookActivitiesOfInvoices(
  sql: Queryable,
  request: { contractId: string; projectId: string; invoiceNumbers: string[]; dueDate: string },
): Promise<number> {
  const keptAsTheyWere: string[] = [];
  for (const invoiceNumbers of chunked(request.invoiceNumbers, IN_LIST_CHUNK)) {
    const released = await sql<{ id: string }[]>`
      update activities a set superseded_at = now()
      from invoices i
      where i.id = a.invoice_id and a.contract_id = ${request.contractId} and a.superseded_at is null
        and i.project_id = ${request.projectId} and i.invoice_number in ${sql(invoiceNumbers)}
      returning a.id`;
    for (const row of released) keptAsTheyWere.push(row.id);
  }
  for (const ids of chunked(keptAsTheyWere, IN_LIST_CHUNK)) {
    await sql`
      insert into activities (contract_id, activity_key, item_number, description, quantity, unit_price, amount,
        period_start, period_end, origin, due_date, tax_category, tax_rate, tax_notice, corrects_key)
      select contract_id, activity_key, item_number, description, quantity, unit_price, amount,
        period_start, period_end, origin, ${request.dueDate}, tax_category, tax_rate, tax_notice, corrects_key
      from activities where id in ${sql(ids)}`;
  }
  return keptAsTheyWere.length;
}

export async function accountBalance(sql: Queryable, accountId: string): Promise<string> {
  const [row] = await sql<{ balance: string }[]>`
    select coalesce(sum(amount), 0)::numeric(18, 4) as balance from ledger_entries where account_id = ${accountId}`;
  return row!.balance;
}
