import { z } from 'zod';
import { problemSchema } from './errors';
import { bookingSchema } from './routes/accounts';
import { createAccountSchema, updateAccountSchema } from '../validation/accounts';
import { listActivitiesSchema, manualActivitySchema } from './routes/activities';
import { cancelSchema } from './routes/contract-commands';
import { changeSubscriptionSchema, pauseSchema, rebillSchema, terminateSchema } from '../validation/contracts';
import { companyDetailsSchema, receivablesSettingsSchema } from './routes/company';
import { createContractSchema, listContractsSchema } from './routes/contracts';
import { contractPricesSchema, discountIdSchema, grantDiscountSchema } from './routes/discounts';
import { createCustomerSchema, customerFieldsSchema } from '../validation/customers';
import { documentQuerySchema } from './routes/documents';
import { dunningLevelsSchema, listDunningNoticesSchema } from './routes/dunning';
import { listInvoicesSchema } from './routes/invoices';
import { createItemSchema, updateItemSchema } from './routes/items';
import { mailLogQuerySchema } from './routes/mail-log';
import { portalLinkSchema } from './routes/portal-links';
import { PORTAL_PAGES } from '../portal/routes';
import { assignPaymentSchema, bankStatementQuerySchema, listPaymentsSchema, paymentIdSchema, paymentSchema } from './routes/payments';
import { createProductGroupSchema } from './routes/product-groups';
import { createApiKeySchema, createProjectSchema } from './routes/projects';
import { paginationSchema } from './schemas';
import { businessNumberSchema } from '../validation/fields';
import { datevQuerySchema, ossQuerySchema, sepaExportSchema, sepaMessageIdSchema } from './routes/exports';
import { createWebhookEndpointSchema, listWebhookDeliveriesSchema, webhookDeliveryIdSchema, webhookEndpointIdSchema } from './routes/webhooks';
import { taxSettingsSchema } from './routes/tax-settings';

/**
 * The OpenAPI 3.1 document of the API, generated from the zod schemas the routes parse with: a field added
 * to a route's schema shows up here without a second edit. Each operation is one entry of `OPERATIONS`.
 */

type Method = 'get' | 'post' | 'put' | 'delete';
type JsonSchema = Record<string, unknown>;

export interface Operation {
  operationId: string;
  method: Method;
  /** OpenAPI style, below `/api/v1` unless `public`: `/Contracts/{contractNumber}`. */
  path: string;
  summary: string;
  description?: string;
  /** Served outside `/api/v1`, without an api-key. */
  public?: boolean;
  /** Path parameters that are not business numbers (the default). */
  params?: Record<string, z.ZodType>;
  query?: z.ZodType;
  body?: z.ZodType;
  /** A request body that is not JSON, e.g. a CSV file. */
  rawBody?: { contentTypes: string[]; description: string };
  /** The `Idempotency-Key` header makes a repeated request return the first answer. */
  idempotent?: boolean;
  response: { status: number; description: string; contentTypes?: string[]; schema?: z.ZodType | JsonSchema };
  /** Refusals beyond the ones every operation of its kind has (400 bad input, 401, 404 for a path, 429). */
  errors?: number[];
}

const activityIdSchema = z.string().regex(/^\d{1,18}$/, 'must be an activity id');
const apiKeyIdSchema = z.string().regex(/^\d{1,18}$/, 'must be an api key id');

const ANY_OBJECT: JsonSchema = { type: 'object' };
const BINARY_OR_TEXT: JsonSchema = { type: 'string' };
const page = (description: string) => ({ status: 200, description, schema: { $ref: '#/components/schemas/Page' } });

export const OPERATIONS: Operation[] = [
  // Customers
  { operationId: 'createCustomer', method: 'post', path: '/Customers', summary: 'Create a customer', body: createCustomerSchema, response: { status: 201, description: 'the customer, with its number' }, errors: [409] },
  { operationId: 'listCustomers', method: 'get', path: '/Customers', summary: 'List customers', query: paginationSchema, response: page('a page of customers') },
  { operationId: 'getCustomer', method: 'get', path: '/Customers/{customerNumber}', summary: 'Read a customer', response: { status: 200, description: 'the customer' } },
  { operationId: 'replaceCustomer', method: 'put', path: '/Customers/{customerNumber}', summary: 'Replace a customer (fields left out go back to their defaults)', body: customerFieldsSchema, response: { status: 200, description: 'the customer' } },
  { operationId: 'listCustomerContracts', method: 'get', path: '/Customers/{customerNumber}/Contracts', summary: "List a customer's contracts", query: paginationSchema, response: page('a page of contracts') },
  // Accounts
  { operationId: 'createAccount', method: 'post', path: '/Customers/{customerNumber}/Accounts', summary: 'Open an account (Kundenkonto) for a customer', body: createAccountSchema, response: { status: 201, description: 'the account with its number and balance' } },
  { operationId: 'listCustomerAccounts', method: 'get', path: '/Customers/{customerNumber}/Accounts', summary: "List a customer's accounts", query: paginationSchema, response: page('a page of accounts') },
  { operationId: 'getAccount', method: 'get', path: '/Accounts/{accountNumber}', summary: 'Read an account', response: { status: 200, description: 'the account' } },
  { operationId: 'updateAccount', method: 'put', path: '/Accounts/{accountNumber}', summary: "Change an account's name, credit limit or minimum top-up", body: updateAccountSchema, response: { status: 200, description: 'the account' } },
  { operationId: 'listTransactions', method: 'get', path: '/Accounts/{accountNumber}/Transactions', summary: "List an account's ledger (Kontobewegungen)", query: paginationSchema, response: page('a page of ledger entries') },
  { operationId: 'listOpenItems', method: 'get', path: '/Accounts/{accountNumber}/OpenItems', summary: "List an account's open items (Offene Posten) and its unallocated credit", response: { status: 200, description: 'the open items, oldest due date first, and the credit entries no item took yet' } },
  { operationId: 'bookTransaction', method: 'post', path: '/Accounts/{accountNumber}/Transactions', summary: 'Book a credit, debit or top-up', body: bookingSchema, idempotent: true, response: { status: 201, description: 'the ledger entry (200: booked before under this Idempotency-Key)' }, errors: [422] },
  // Master data
  { operationId: 'listTaxGroups', method: 'get', path: '/TaxGroups', summary: 'List the tax groups with their dated rates', response: page('every tax group') },
  { operationId: 'createProductGroup', method: 'post', path: '/ProductGroups', summary: 'Create a product group (Warengruppe)', body: createProductGroupSchema, response: { status: 201, description: 'the product group' }, errors: [409] },
  { operationId: 'listProductGroups', method: 'get', path: '/ProductGroups', summary: 'List product groups', query: paginationSchema, response: page('a page of product groups') },
  { operationId: 'getProductGroup', method: 'get', path: '/ProductGroups/{code}', summary: 'Read a product group', response: { status: 200, description: 'the product group' } },
  { operationId: 'createItem', method: 'post', path: '/Items', summary: 'Create an item (Artikel) with its prices', body: createItemSchema, response: { status: 201, description: 'the item' }, errors: [409] },
  { operationId: 'listItems', method: 'get', path: '/Items', summary: 'List items', query: paginationSchema, response: page('a page of items') },
  { operationId: 'getItem', method: 'get', path: '/Items/{itemNumber}', summary: 'Read an item', response: { status: 200, description: 'the item' } },
  { operationId: 'replaceItem', method: 'put', path: '/Items/{itemNumber}', summary: "Replace an item's name, product group and prices (the unit stays)", body: updateItemSchema, response: { status: 200, description: 'the item' } },
  // Contracts
  { operationId: 'createContract', method: 'post', path: '/Contracts', summary: 'Create a contract and start its workflow', body: createContractSchema, response: { status: 201, description: 'the contract with its number, status and next billing date; a worker starts its workflow if Temporal could not at once' }, errors: [422] },
  { operationId: 'listContracts', method: 'get', path: '/Contracts', summary: 'List contracts', query: listContractsSchema, response: page('a page of contracts') },
  { operationId: 'getContract', method: 'get', path: '/Contracts/{contractNumber}', summary: 'Read a contract with its status, next billing date and last invoice as its billing runs and commands recorded them', response: { status: 200, description: 'the contract with its subscription' } },
  { operationId: 'getSubscription', method: 'get', path: '/Contracts/{contractNumber}/Subscription', summary: "Read a contract's current subscription items", response: page('the subscription items') },
  { operationId: 'changeSubscription', method: 'post', path: '/Contracts/{contractNumber}/Subscription', summary: 'Up- or downgrade: the new full item set from a date, prorated', body: changeSubscriptionSchema, idempotent: true, response: { status: 200, description: 'the change as the workflow carried it out' }, errors: [409, 422, 503] },
  { operationId: 'listActivities', method: 'get', path: '/Contracts/{contractNumber}/Activities', summary: "List a contract's activities (Leistungen)", query: listActivitiesSchema, response: page('a page of activities') },
  { operationId: 'bookActivity', method: 'post', path: '/Contracts/{contractNumber}/Activities', summary: 'Book a manual activity for the next billing run', body: manualActivitySchema, idempotent: true, response: { status: 201, description: 'the activity (200: booked before under this Idempotency-Key)' }, errors: [409, 422] },
  { operationId: 'deleteActivity', method: 'delete', path: '/Contracts/{contractNumber}/Activities/{activityId}', summary: 'Delete an unbilled manual activity', params: { activityId: activityIdSchema }, response: { status: 204, description: 'deleted' }, errors: [409] },
  { operationId: 'rebillContract', method: 'post', path: '/Contracts/{contractNumber}/rebill', summary: 'Backdated re-billing from a period start', body: rebillSchema, idempotent: true, response: { status: 200, description: 'the cancelled invoices, their corrections and the interim invoice' }, errors: [409, 422, 503] },
  { operationId: 'pauseContract', method: 'post', path: '/Contracts/{contractNumber}/pause', summary: 'Pause deliveries [from, until)', body: pauseSchema, idempotent: true, response: { status: 200, description: 'the pause as the workflow recorded it' }, errors: [409, 422, 503] },
  { operationId: 'issueInterimInvoice', method: 'post', path: '/Contracts/{contractNumber}/interimInvoice', summary: 'Bill everything unbilled now (Zwischenabrechnung)', idempotent: true, response: { status: 200, description: 'the invoice number, null when nothing was due' }, errors: [409, 422, 503] },
  { operationId: 'terminateContract', method: 'post', path: '/Contracts/{contractNumber}/terminate', summary: 'Terminate (Kündigung), by default at the earliest date allowed', body: terminateSchema, idempotent: true, response: { status: 200, description: 'the end date and the earliest end date' }, errors: [409, 422, 503] },
  { operationId: 'resumeContract', method: 'post', path: '/Contracts/{contractNumber}/resume', summary: 'Resume a contract paused for a billing error (NO_PRICE_FOUND, NO_TAX_RATE) once the data is fixed: it bills from where it stopped', description: 'A contract paused for its credit limit tries to bill again the same way; one not paused, or paused for dunning, stays as it is (resumed: false).', response: { status: 202, description: 'the contract as the books have it now; the workflow bills at once' } },
  { operationId: 'listDiscounts', method: 'get', path: '/Contracts/{contractNumber}/Discounts', summary: "List a contract's discounts (Rabatte)", response: page('every discount of the contract') },
  { operationId: 'grantDiscount', method: 'post', path: '/Contracts/{contractNumber}/Discounts', summary: 'Grant a discount: a percentage or a fixed amount per period, on one item or every item, from a date for some periods or until a date', description: 'Each charge the next billing runs invoice gets a discount line of its own beside it (same item, same tax), never below zero. Invoiced service takes a discount that reaches back only through a re-billing.', body: grantDiscountSchema, idempotent: true, response: { status: 201, description: 'the discount (200: granted before under this Idempotency-Key)' } },
  { operationId: 'withdrawDiscount', method: 'delete', path: '/Contracts/{contractNumber}/Discounts/{discountId}', summary: 'Withdraw a discount: deleted while no invoice carries it, else ended after the last invoiced service (issued invoices stay as they are)', params: { discountId: discountIdSchema }, response: { status: 204, description: 'deleted; 200 with the discount when it was ended instead' } },
  { operationId: 'getContractPrices', method: 'get', path: '/Contracts/{contractNumber}/Prices', summary: "List a contract's own prices", response: { status: 200, description: 'the currency and the prices' } },
  { operationId: 'replaceContractPrices', method: 'put', path: '/Contracts/{contractNumber}/Prices', summary: "Replace a contract's own prices: each replaces the catalogue price of its item from its date on", body: contractPricesSchema, response: { status: 200, description: 'the currency and the prices' } },
  // Invoices
  { operationId: 'listInvoices', method: 'get', path: '/Invoices', summary: 'List invoices', query: listInvoicesSchema, response: page('a page of invoice headers') },
  { operationId: 'getInvoice', method: 'get', path: '/Invoices/{invoiceNumber}', summary: 'Read an invoice with its lines and taxes', response: { status: 200, description: 'the invoice' } },
  { operationId: 'cancelInvoice', method: 'post', path: '/Invoices/{invoiceNumber}/cancel', summary: 'Cancel an invoice (Storno)', body: cancelSchema, idempotent: true, response: { status: 200, description: 'the invoice and its correction number' }, errors: [409, 503] },
  { operationId: 'resendInvoiceMail', method: 'post', path: '/Invoices/{invoiceNumber}/resendMail', summary: "Send the invoice's mail again (after the SMTP server refused it; GET /MailLog?status=FAILED)", description: 'The contract queues the mail and answers at once; the mail log shows when it went out. A mail the SMTP server accepted before is not sent again.', idempotent: true, response: { status: 202, description: 'the mail is queued' }, errors: [409, 503] },
  { operationId: 'getInvoiceCorrection', method: 'get', path: '/InvoiceCorrections/{invoiceCorrectionNumber}', summary: 'Read a cancellation document', response: { status: 200, description: 'the correction, every amount negated' } },
  { operationId: 'getInvoiceDocument', method: 'get', path: '/Invoices/{invoiceNumber}/Document', summary: 'The invoice as PDF, XRechnung CII XML or Factur-X PDF/A-3', query: documentQuerySchema, response: { status: 200, description: 'the document', contentTypes: ['application/pdf', 'application/xml'] }, errors: [409] },
  { operationId: 'getInvoiceCorrectionDocument', method: 'get', path: '/InvoiceCorrections/{invoiceCorrectionNumber}/Document', summary: 'The cancellation document as PDF, XRechnung CII XML or Factur-X PDF/A-3', query: documentQuerySchema, response: { status: 200, description: 'the document', contentTypes: ['application/pdf', 'application/xml'] }, errors: [409] },
  { operationId: 'getCompany', method: 'get', path: '/Company', summary: "The company that issues the project's invoices", response: { status: 200, description: 'the company details' }, errors: [404] },
  { operationId: 'replaceCompany', method: 'put', path: '/Company', summary: 'Replace the company details printed on invoices', body: companyDetailsSchema, response: { status: 200, description: 'the company details' } },
  { operationId: 'getReceivablesSettings', method: 'get', path: '/Settings/receivables', summary: "The project's pre-notification days of direct debits and whether return fees are charged on", response: { status: 200, description: 'the receivables settings' } },
  {
    operationId: 'replaceReceivablesSettings',
    method: 'put',
    path: '/Settings/receivables',
    summary: 'Replace the receivables settings',
    description: 'The pre-notification days count for invoices issued afterwards; an issued invoice keeps the day it announced.',
    body: receivablesSettingsSchema,
    response: { status: 200, description: 'the receivables settings' },
  },
  { operationId: 'getTaxSettings', method: 'get', path: '/Settings/tax', summary: "The project's tax settings: whether it is in the One-Stop-Shop", response: { status: 200, description: 'the tax settings' } },
  {
    operationId: 'replaceTaxSettings',
    method: 'put',
    path: '/Settings/tax',
    summary: 'Replace the tax settings',
    description: 'In the One-Stop-Shop, consumers in other EU countries are taxed at their country’s standard or reduced rate from the next billing on; issued invoices keep their tax.',
    body: taxSettingsSchema,
    response: { status: 200, description: 'the tax settings' },
  },
  // Dunning
  { operationId: 'getDunningLevels', method: 'get', path: '/DunningLevels', summary: "The project's dunning levels (payment reminder, first and second dunning: days after the due date, fee, days to pay, text) and the level from which contracts pause", response: { status: 200, description: 'the levels; the defaults until the project sets its own' } },
  { operationId: 'replaceDunningLevels', method: 'put', path: '/DunningLevels', summary: 'Replace the dunning levels and the level from which contracts pause (null: never)', description: 'Each level comes later after the due date than the one before. A running dunning takes the new levels for its next letter. Default interest (§ 288 BGB: the base rate plus 5 points for consumers or 9 for businesses) is booked with each letter when enabled; left out, it is off.', body: dunningLevelsSchema, response: { status: 200, description: 'the levels' } },
  { operationId: 'listDunningNotices', method: 'get', path: '/DunningNotices', summary: 'List the dunning letters sent, with the open items, fee and total each listed', query: listDunningNoticesSchema, response: page('a page of dunning letters') },
  { operationId: 'stopDunning', method: 'post', path: '/Invoices/{invoiceNumber}/dunning/stop', summary: "Stop an invoice's dunning: no further letter or fee", description: 'A repeated stop answers the same and changes nothing. Contracts paused by this dunning resume.', response: { status: 200, description: 'the stop, with the last level sent' } },
  // Payments
  { operationId: 'bookPayment', method: 'post', path: '/Payments', summary: 'Book an incoming payment, matched against open invoices', body: paymentSchema, idempotent: true, response: { status: 201, description: 'the matching result (200: booked before under this key)' } },
  { operationId: 'assignPayment', method: 'post', path: '/Payments/{paymentId}/assign', summary: 'Assign an UNMATCHED payment to an account or to invoices', params: { paymentId: paymentIdSchema }, body: assignPaymentSchema, response: { status: 200, description: 'the payment as booked now (a repeat answers the same and books nothing)' }, errors: [409, 422] },
  { operationId: 'listPayments', method: 'get', path: '/Payments', summary: 'List incoming payments', query: listPaymentsSchema, response: page('a page of payments') },
  {
    operationId: 'importBankStatement',
    method: 'post',
    path: '/BankStatements',
    summary: 'Import a bank statement (camt.053 .001.02/.001.08 or CSV): match its payments, book its returned direct debits',
    query: bankStatementQuerySchema,
    rawBody: { contentTypes: ['application/xml', 'text/xml', 'text/csv', 'application/csv'], description: 'the statement file, UTF-8' },
    response: { status: 200, description: 'a summary, the result per payment and per returned direct debit (Rücklastschrift)' },
    errors: [413, 415],
  },
  // Exports
  {
    operationId: 'exportDatev',
    method: 'get',
    path: '/Exports/datev',
    summary: 'DATEV booking batch (EXTF 700, Buchungsstapel) of the invoices, stornos and fees dated in a range',
    description: 'A batch never crosses the end of a fiscal year. 422 INCORRECT_INPUT_DATA when a document cannot be booked with these settings: its customer number gives no debtor account, its product group has no revenue account, or its VAT rate has no DATEV tax key.',
    query: datevQuerySchema,
    response: { status: 200, description: 'the batch as a Windows-1252 CSV file (an attachment)', contentTypes: ['text/csv'] },
    errors: [422],
  },
  {
    operationId: 'exportOss',
    method: 'get',
    path: '/Exports/oss',
    summary: 'One-Stop-Shop return of a quarter: net and VAT per EU country and rate',
    description: 'The invoices of the quarter taxed in the consumer’s EU country, by invoice date, and the stornos dated in the quarter, negative. `format=csv` answers the same lines as CSV.',
    query: ossQuerySchema,
    response: { status: 200, description: 'the return (JSON, or CSV with format=csv)', contentTypes: ['application/json', 'text/csv'] },
  },
  {
    operationId: 'exportSepaDirectDebit',
    method: 'post',
    path: '/Exports/sepa',
    summary: 'SEPA direct debit file (pain.008.001.08) of the open invoices of customers with a mandate',
    description:
      'Collects what is open on each OPEN or PARTIAL invoice at the time of the export, never an invoice whose collection is still out (a returned one may be collected again by a new export), never before the day the invoice\'s pre-notification announced (PRE_NOTIFICATION_PENDING), and never under a mandate the bank reported unusable (MANDATE_UNUSABLE). FRST for the first collection under a mandate, RCUR after. The XML answer names the message and the skipped invoices in the X-Sepa-Message-Id, X-Sepa-Collected and X-Sepa-Skipped headers; `Accept: application/json` answers with a summary of what was collected and skipped, and the document. 409 CONFLICT when nothing is left to collect (`errors` says why each invoice was skipped); 422 COMPANY_DETAILS_MISSING without the company\'s creditor identifier and IBAN (PUT /Company).',
    body: sepaExportSchema,
    idempotent: true,
    response: { status: 201, description: 'the pain.008 XML (or the JSON summary); 200 when the Idempotency-Key was used before', contentTypes: ['application/xml', 'application/json'] },
    errors: [409, 422],
  },
  {
    operationId: 'getSepaDirectDebit',
    method: 'get',
    path: '/Exports/sepa/{messageId}',
    summary: 'A SEPA direct debit file made before, by its message id (MsgId)',
    params: { messageId: sepaMessageIdSchema },
    response: { status: 200, description: 'the pain.008 XML as made (with `Accept: application/json` its summary and the document)', contentTypes: ['application/xml', 'application/json'] },
  },
  // Operations
  {
    operationId: 'importCustomers',
    method: 'post',
    path: '/Imports/customers',
    summary: 'Import customers and their first accounts from a CSV file',
    rawBody: { contentTypes: ['text/csv'], description: 'UTF-8 CSV, one customer per line; see imports/customers-csv.ts for the columns' },
    response: { status: 200, description: 'imported, skipped and refused rows with their reasons' },
    errors: [413, 415],
  },
  { operationId: 'createPortalLink', method: 'post', path: '/Customers/{customerNumber}/portalLink', summary: 'A single-use sign-in link to the customer center (valid 15 minutes), optionally mailed to the customer', body: portalLinkSchema, response: { status: 201, description: 'the link, when it expires, and the mail outcome when it was mailed' }, errors: [422] },
  { operationId: 'listPortalTerminations', method: 'get', path: '/PortalTerminations', summary: "Terminations received through the customer center's cancellation button that no contract carried out, for the operator", query: paginationSchema, response: page('a page of recorded terminations with their time of receipt') },
  { operationId: 'listMailLog', method: 'get', path: '/MailLog', summary: 'List sent and failed mails', query: mailLogQuerySchema, response: page('a page of mail log entries') },
  { operationId: 'listProjects', method: 'get', path: '/Projects', summary: "List projects (the administrator key sees all, others their own)", query: paginationSchema, response: page('a page of projects') },
  { operationId: 'createProject', method: 'post', path: '/Projects', summary: 'Create a project with its first api-key (administrator key only)', body: createProjectSchema, response: { status: 201, description: 'the project and its first key, shown once' }, errors: [403, 409] },
  { operationId: 'listApiKeys', method: 'get', path: '/ApiKeys', summary: "List the project's api-keys (prefixes only)", response: page('every key of the project') },
  { operationId: 'createApiKey', method: 'post', path: '/ApiKeys', summary: 'Issue an api-key (an administrator key by an administrator key only)', body: createApiKeySchema, response: { status: 201, description: 'the key, shown once' }, errors: [403] },
  { operationId: 'revokeApiKey', method: 'delete', path: '/ApiKeys/{id}', summary: 'Revoke an api-key at once (an administrator key by an administrator key, never the last one)', params: { id: apiKeyIdSchema }, response: { status: 204, description: 'revoked' }, errors: [403, 409] },
  // Webhooks
  {
    operationId: 'createWebhookEndpoint',
    method: 'post',
    path: '/WebhookEndpoints',
    summary: 'Register a webhook endpoint for event types; its signing secret is answered once',
    description: 'Events are delivered as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature v1 with HMAC-SHA256 under the secret, whsec_ and base64), each once per endpoint under a stable webhook-id, in order per contract, retried with backoff for a day. The URL must be http(s); 422 WEBHOOK_TARGET_NOT_ALLOWED when its host does not resolve or resolves to a private, loopback, link-local or otherwise internal address (allowed only with WEBHOOKS_ALLOW_PRIVATE_TARGETS=true).',
    body: createWebhookEndpointSchema,
    response: { status: 201, description: 'the endpoint and its secret, shown once' },
    errors: [422],
  },
  { operationId: 'listWebhookEndpoints', method: 'get', path: '/WebhookEndpoints', summary: "List the project's webhook endpoints (without their secrets)", query: paginationSchema, response: page('a page of endpoints') },
  { operationId: 'getWebhookEndpoint', method: 'get', path: '/WebhookEndpoints/{endpointId}', summary: 'Read a webhook endpoint', params: { endpointId: webhookEndpointIdSchema }, response: { status: 200, description: 'the endpoint' } },
  { operationId: 'deleteWebhookEndpoint', method: 'delete', path: '/WebhookEndpoints/{endpointId}', summary: 'Delete a webhook endpoint: no further events, pending deliveries are not sent', params: { endpointId: webhookEndpointIdSchema }, response: { status: 204, description: 'deleted' } },
  { operationId: 'listWebhookDeliveries', method: 'get', path: '/WebhookDeliveries', summary: 'The delivery log: one row per event and endpoint with status, attempts, last response code and time', query: listWebhookDeliveriesSchema, response: page('a page of deliveries') },
  { operationId: 'getWebhookDelivery', method: 'get', path: '/WebhookDeliveries/{deliveryId}', summary: 'A delivery with every attempt (time, duration, response code, error)', params: { deliveryId: webhookDeliveryIdSchema }, response: { status: 200, description: 'the delivery and its attempts' } },
  { operationId: 'resendWebhookDelivery', method: 'post', path: '/WebhookDeliveries/{deliveryId}/resend', summary: 'Send a delivery again under the same webhook-id, with a new day of retries', params: { deliveryId: webhookDeliveryIdSchema }, response: { status: 202, description: 'the delivery, PENDING again' } },
  // Outside /api/v1, no api-key
  { operationId: 'getHealth', method: 'get', path: '/health', public: true, summary: 'Liveness with PostgreSQL and Temporal checks', response: { status: 200, description: 'both answer (503 when one does not)', schema: ANY_OBJECT } },
  { operationId: 'getOpenApiDocument', method: 'get', path: '/openapi.json', public: true, summary: 'This document', response: { status: 200, description: 'the OpenAPI 3.1 document', schema: ANY_OBJECT } },
  { operationId: 'getApiDocs', method: 'get', path: '/docs', public: true, summary: 'The interactive documentation (Swagger UI)', response: { status: 200, description: 'an HTML page', contentTypes: ['text/html'] } },
  // The customer center: HTML pages and forms for end customers, no api-key (a session cookie once signed in)
  ...PORTAL_PAGES.map((page): Operation => ({
    ...page,
    public: true,
    params: { project: z.string().regex(/^\d{1,18}$/, 'must be a project id'), ...(page.path.includes('{token}') ? { token: z.string().max(200) } : {}) },
    response: { status: page.method === 'post' ? 303 : 200, description: 'an HTML page (a POST answers with the page or a redirect to it)', contentTypes: [page.path.endsWith('.css') ? 'text/css' : 'text/html'] },
  })),
];

export const API_BASE_PATH = '/api/v1';

/** The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of what a client sends: defaults are optional, transforms ignored. */
export function inputJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return json;
}

export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
}

const PROBLEM_RESPONSES: Record<number, string> = {
  400: 'the input was refused; `errors` names every wrong field',
  401: 'the api-key header is missing or not valid',
  403: 'the api-key may not do this',
  404: 'no such resource in this project',
  409: 'the resource exists already, or its state does not allow this',
  413: 'the request body is too large',
  415: 'the request body has the wrong content type',
  422: 'the input is well-formed but breaks a business rule (credit limit, no price, unit mismatch, top-up too small)',
  429: 'more requests with this api-key in a minute than allowed; see Retry-After',
  503: 'the contract workflow did not answer in time; repeat with the same Idempotency-Key',
};

function operationObject(operation: Operation): JsonSchema {
  const parameters: JsonSchema[] = pathParameterNames(operation.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: inputJsonSchema(operation.params?.[name] ?? businessNumberSchema),
  }));
  if (operation.query) {
    const query = inputJsonSchema(operation.query);
    if (query.type !== 'object' || typeof query.properties !== 'object') throw new Error(`${operation.operationId}: a query schema must be an object`);
    const required = new Set((query.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(query.properties as Record<string, JsonSchema>)) {
      parameters.push({ name, in: 'query', required: required.has(name), schema });
    }
  }
  if (operation.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'a repeated request with the same key gets the first answer and changes nothing',
      schema: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\w.:-]+$' },
    });
  }

  const statuses = new Set<number>(operation.errors ?? []);
  if (parameters.some((parameter) => parameter.in !== 'header') || operation.body || operation.rawBody) statuses.add(400);
  if (!operation.public) [401, 429].forEach((status) => statuses.add(status));
  if (pathParameterNames(operation.path).length > 0) statuses.add(404);
  if (operation.body) statuses.add(413);

  const { response } = operation;
  const success: JsonSchema =
    response.status === 204
      ? { description: response.description }
      : {
          description: response.description,
          content: Object.fromEntries(
            (response.contentTypes ?? ['application/json']).map((type) => [
              type,
              { schema: type !== 'application/json' ? BINARY_OR_TEXT : response.schema === undefined ? ANY_OBJECT : response.schema instanceof z.ZodType ? inputJsonSchema(response.schema) : response.schema },
            ]),
          ),
        };
  const responses: Record<string, JsonSchema> = { [String(response.status)]: success };
  for (const status of [...statuses].sort()) {
    responses[String(status)] = { description: PROBLEM_RESPONSES[status] ?? 'refused', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  }

  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [operation.public ? 'Service' : operation.path.split('/')[1]!],
    ...(operation.public ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body ? { requestBody: { required: true, content: { 'application/json': { schema: inputJsonSchema(operation.body) } } } } : {}),
    ...(operation.rawBody
      ? { requestBody: { required: true, description: operation.rawBody.description, content: Object.fromEntries(operation.rawBody.contentTypes.map((type) => [type, { schema: { type: 'string' } }])) } }
      : {}),
    responses,
  };
}

export function buildOpenApiDocument(operations: Operation[] = OPERATIONS): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const item = (paths[operation.path] ??= operation.public ? { servers: [{ url: '/' }] } : {});
    if (item[operation.method]) throw new Error(`${operation.method.toUpperCase()} ${operation.path} is listed twice`);
    item[operation.method] = operationObject(operation);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Kontor API',
      version: '1',
      description:
        'Subscription billing: customers, accounts, items, contracts (one Temporal workflow each), invoices. Money is a decimal string, dates are YYYY-MM-DD, periods are half-open. Errors are application/problem+json with a stable errorKey.',
    },
    servers: [{ url: API_BASE_PATH }],
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'api-key', description: "a project's api-key; it decides which project's data is visible" } },
      schemas: {
        Problem: inputJsonSchema(problemSchema),
        Page: {
          type: 'object',
          required: ['items', 'nextCursor'],
          properties: {
            items: { type: 'array', items: ANY_OBJECT },
            nextCursor: { type: ['string', 'null'], description: 'pass as `cursor` for the next page; null on the last page' },
          },
        },
      },
    },
  };
}
