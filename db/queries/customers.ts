import type { Queryable } from '../client';

export type TaxRegion = 'NATIONAL' | 'EU' | 'THIRD_COUNTRY';
export type DueUnit = 'DAY' | 'WEEK' | 'MONTH';

/** What a client may write about a customer; a PUT replaces all of it. */
export interface CustomerFields {
  salutation: string | null;
  firstName: string | null;
  lastName: string | null;
  companyName: string | null;
  email: string | null;
  locale: string;
  euTaxId: string | null;
  taxNumber: string | null;
  taxRegion: TaxRegion;
  billingAddress: {
    addressLine1: string | null;
    addressLine2: string | null;
    zipCode: string | null;
    cityName: string | null;
    country: string | null;
  };
  duePeriod: number;
  dueUnit: DueUnit;
  /** Electronic format (no spaces, upper case). */
  iban: string | null;
  bic: string | null;
  /** The SEPA direct debit mandate; it needs the IBAN. */
  sepaMandate: SepaMandate | null;
  /** BT-10 of an e-invoice: a public buyer's Leitweg-ID. */
  buyerReference: string | null;
}

export interface SepaMandate {
  reference: string;
  signedOn: string;
}

export interface Customer extends CustomerFields {
  id: string;
  customerNumber: string;
}

/** A customer's row: the billing address and the mandate flattened into columns. */
type CustomerRow = Omit<Customer, 'billingAddress' | 'sepaMandate'> &
  Customer['billingAddress'] & {
    mandateReference: string | null;
    mandateSignedOn: string | null;
  };

const COLUMNS = (sql: Queryable) => sql`
  id, customer_number as "customerNumber", salutation, first_name as "firstName", last_name as "lastName",
  company_name as "companyName", email, locale, eu_tax_id as "euTaxId", tax_number as "taxNumber", tax_region as "taxRegion",
  address_line1 as "addressLine1", address_line2 as "addressLine2", zip_code as "zipCode", city_name as "cityName", country,
  due_period as "duePeriod", due_unit as "dueUnit", iban, bic, sepa_mandate_reference as "mandateReference",
  sepa_mandate_signed_on as "mandateSignedOn", buyer_reference as "buyerReference"`;

function toCustomer(row: CustomerRow): Customer {
  const { addressLine1, addressLine2, zipCode, cityName, country, mandateReference, mandateSignedOn, ...rest } = row;
  return {
    ...rest,
    billingAddress: { addressLine1, addressLine2, zipCode, cityName, country },
    // the table's check constraint keeps reference and date together
    sepaMandate: mandateReference !== null && mandateSignedOn !== null ? { reference: mandateReference, signedOn: mandateSignedOn } : null,
  };
}

function columnValues(fields: CustomerFields) {
  return {
    salutation: fields.salutation,
    first_name: fields.firstName,
    last_name: fields.lastName,
    company_name: fields.companyName,
    email: fields.email,
    locale: fields.locale,
    eu_tax_id: fields.euTaxId,
    tax_number: fields.taxNumber,
    tax_region: fields.taxRegion,
    address_line1: fields.billingAddress.addressLine1,
    address_line2: fields.billingAddress.addressLine2,
    zip_code: fields.billingAddress.zipCode,
    city_name: fields.billingAddress.cityName,
    country: fields.billingAddress.country,
    due_period: fields.duePeriod,
    due_unit: fields.dueUnit,
    iban: fields.iban,
    bic: fields.bic,
    sepa_mandate_reference: fields.sepaMandate?.reference ?? null,
    sepa_mandate_signed_on: fields.sepaMandate?.signedOn ?? null,
    buyer_reference: fields.buyerReference,
  };
}

/** Postgres refused a second customer with the same mandate reference in the project. */
export function isDuplicateMandateReference(error: unknown): boolean {
  const failure = error as { code?: unknown; constraint_name?: unknown } | null;
  return failure?.code === '23505' && failure.constraint_name === 'customers_mandate_reference';
}

/** Inserts the customer unless the number is taken in the project; null then. */
export async function insertCustomer(
  sql: Queryable,
  projectId: string,
  customerNumber: string,
  fields: CustomerFields,
): Promise<Customer | null> {
  const values = { project_id: projectId, customer_number: customerNumber, ...columnValues(fields) };
  const [row] = await sql<CustomerRow[]>`
    insert into customers ${sql(values)}
    on conflict (project_id, customer_number) do nothing
    returning ${COLUMNS(sql)}`;
  return row ? toCustomer(row) : null;
}

export async function findCustomer(sql: Queryable, projectId: string, customerNumber: string): Promise<Customer | null> {
  const [row] = await sql<CustomerRow[]>`
    select ${COLUMNS(sql)} from customers where project_id = ${projectId} and customer_number = ${customerNumber}`;
  return row ? toCustomer(row) : null;
}

export async function listCustomers(sql: Queryable, projectId: string, page: { afterId: string | null; limit: number }): Promise<Customer[]> {
  const rows = await sql<CustomerRow[]>`
    select ${COLUMNS(sql)} from customers
    where project_id = ${projectId} ${page.afterId ? sql`and id > ${page.afterId}` : sql``}
    order by id limit ${page.limit}`;
  return rows.map(toCustomer);
}

export async function updateCustomer(
  sql: Queryable,
  projectId: string,
  customerNumber: string,
  fields: CustomerFields,
): Promise<Customer | null> {
  // a mandate the bank called unusable (a return for a closed account, say) stays so until the customer
  // gives another mandate or another account; the right-hand sides read the row as it was
  const unchangedMandate = sql`sepa_mandate_reference is not distinct from ${fields.sepaMandate?.reference ?? null} and iban is not distinct from ${fields.iban}`;
  const [row] = await sql<CustomerRow[]>`
    update customers set ${sql(columnValues(fields))}, updated_at = now(),
      sepa_mandate_unusable_reason = case when ${unchangedMandate} then sepa_mandate_unusable_reason end,
      sepa_mandate_unusable_since = case when ${unchangedMandate} then sepa_mandate_unusable_since end
    where project_id = ${projectId} and customer_number = ${customerNumber}
    returning ${COLUMNS(sql)}`;
  return row ? toCustomer(row) : null;
}

export interface CustomerContract {
  id: string;
  contractNumber: string;
  accountNumber: string;
  status: string;
  pauseReason: string | null;
  startDate: string;
  nextBillingDate: string | null;
  endDate: string | null;
}

export async function listCustomerContracts(
  sql: Queryable,
  customerId: string,
  page: { afterId: string | null; limit: number },
): Promise<CustomerContract[]> {
  return sql<CustomerContract[]>`
    select c.id, c.contract_number as "contractNumber", a.account_number as "accountNumber", c.status,
      c.pause_reason as "pauseReason", c.start_date as "startDate", c.next_billing_date as "nextBillingDate", c.end_date as "endDate"
    from contracts c join accounts a on a.id = c.account_id
    where c.customer_id = ${customerId} ${page.afterId ? sql`and c.id > ${page.afterId}` : sql``}
    order by c.id limit ${page.limit}`;
}
