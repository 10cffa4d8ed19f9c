import type { Sql } from '../db/client';
import { takeNextNumber } from '../db/numbers';
import {
  findCustomer,
  insertCustomer,
  isDuplicateMandateReference,
  listCustomerContracts as listContractsOfCustomer,
  listCustomers as listCustomersOfProject,
  updateCustomer as updateCustomerRow,
  type Customer,
  type CustomerContract,
  type CustomerFields,
} from '../db/queries/customers';
import { OperationError } from './errors';

/** Customers (Kunden) and the contracts each one has. */

export type { Customer, CustomerContract, CustomerFields };

type Page = { afterId: string | null; limit: number };

/**
 * Creates a customer under the number given (409 when the project has it already) or the next generated
 * one. A SEPA mandate reference another customer holds is refused with 409.
 */
export async function createCustomer(deps: { sql: Sql }, projectId: string, customer: CustomerFields & { customerNumber?: string }): Promise<Customer> {
  const { customerNumber, ...fields } = customer;
  return refuseDuplicateMandate(
    deps.sql.begin(async (tx) => {
      if (customerNumber !== undefined) {
        const created = await insertCustomer(tx, projectId, customerNumber, fields);
        if (!created) {
          throw OperationError.ofFields('CONFLICT', 'CONFLICT', `customer ${customerNumber} exists already`, [{ path: 'customerNumber', message: 'exists already' }]);
        }
        return created;
      }
      // A generated number may have been taken by hand before: take the next one then.
      for (;;) {
        const generated = await takeNextNumber(tx, projectId, 'CUSTOMER', '1970-01-01');
        const created = await insertCustomer(tx, projectId, generated, fields);
        if (created) return created;
      }
    }),
  );
}

/** Replaces every field of the customer (404 without one); a SEPA mandate reference another customer holds is refused with 409. */
export async function updateCustomer(deps: { sql: Sql }, projectId: string, customerNumber: string, fields: CustomerFields): Promise<Customer> {
  const customer = await refuseDuplicateMandate(updateCustomerRow(deps.sql, projectId, customerNumber, fields));
  if (!customer) throw OperationError.notFound(`customer ${customerNumber}`);
  return customer;
}

export async function getCustomer(deps: { sql: Sql }, projectId: string, customerNumber: string): Promise<Customer> {
  const customer = await findCustomer(deps.sql, projectId, customerNumber);
  if (!customer) throw OperationError.notFound(`customer ${customerNumber}`);
  return customer;
}

/** One page of the project's customers in id order. */
export async function listCustomers(deps: { sql: Sql }, projectId: string, page: Page): Promise<Customer[]> {
  return listCustomersOfProject(deps.sql, projectId, page);
}

/** One page of the contracts of the customer with that number, in id order. */
export async function listCustomerContracts(deps: { sql: Sql }, projectId: string, customerNumber: string, page: Page): Promise<CustomerContract[]> {
  const customer = await getCustomer(deps, projectId, customerNumber);
  return listContractsOfCustomer(deps.sql, customer.id, page);
}

/** A mandate reference identifies one mandate of the creditor: a second customer cannot have it. */
async function refuseDuplicateMandate<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isDuplicateMandateReference(error)) {
      throw OperationError.ofFields('CONFLICT', 'CONFLICT', 'another customer has this SEPA mandate reference', [
        { path: 'sepaMandate.reference', message: "is the reference of another customer's mandate" },
      ]);
    }
    throw error;
  }
}
