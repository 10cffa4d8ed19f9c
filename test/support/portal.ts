import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import type { Config } from '../../config/config';
import { createLogger } from '../../config/logger';
import type { TestEngine } from './engine';

/**
 * The engine's API and customer center on a server of their own whose address the mailed links name
 * (`PORTAL_URL`), since the test engine's server listens on a port chosen after its configuration was read;
 * `api` settings replace the engine's (a trusted proxy, say).
 */
export async function startPortalServer(engine: TestEngine, api: Partial<Config['api']> = {}): Promise<{ origin: string; stop(): Promise<void> }> {
  let handler: http.RequestListener = (_request, response) => response.end();
  const server = http.createServer((request, response) => handler(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = { ...engine.config, api: { ...engine.config.api, ...api }, portal: { publicUrl: origin } };
  handler = createApp({ sql: engine.sql, temporal: engine.temporal, config, logger: createLogger({ level: 'warn', name: 'portal-test' }) });
  return {
    origin,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

export interface PortalAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A visitor of the customer center without a browser: keeps the cookies it is given (as a browser would for
 * one site) and reads the CSRF and submission fields of the last page it got.
 */
export class PortalVisitor {
  readonly cookies = new Map<string, string>();
  last: PortalAnswer | null = null;
  /** The redirect (303) the last request answered before the page it led to, if it did. */
  redirect: PortalAnswer | null = null;

  /** `headers` go with every request, as a proxy in front of the API adds them. */
  constructor(
    readonly origin: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async get(path: string): Promise<PortalAnswer> {
    return this.request('GET', path);
  }

  /** Posts a form; `_csrf` and `submission` come from the last page unless given (or given as null: left out). */
  async post(path: string, fields: Record<string, string | null>): Promise<PortalAnswer> {
    const form = new URLSearchParams();
    const defaults: Record<string, string | null> = { _csrf: this.field('_csrf'), submission: this.field('submission') };
    for (const [name, value] of Object.entries({ ...defaults, ...fields })) if (value !== null) form.set(name, value);
    return this.request('POST', path, form);
  }

  field(name: string): string | null {
    const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(this.last?.text ?? '');
    return match ? match[1]! : null;
  }

  private async request(method: string, path: string, form?: URLSearchParams): Promise<PortalAnswer> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(`${this.origin}${path}`, {
      method,
      redirect: 'manual',
      headers: { ...this.headers, ...(cookie ? { cookie } : {}), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form?.toString(),
    });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair] = setCookie.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (value === '' || /max-age=0/i.test(setCookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const answer = { status: response.status, headers: response.headers, text: await response.text() };
    if (answer.status === 303) {
      const location = new URL(response.headers.get('location')!, this.origin);
      const page = await this.get(location.pathname + location.search);
      this.redirect = answer;
      return page;
    }
    this.redirect = null;
    this.last = answer;
    return answer;
  }
}

/** The sign-in link in a mail the SMTP peer received (quoted-printable soft breaks undone). */
export function signInLinkIn(raw: string): string {
  const body = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const match = /https?:\/\/\S+\/portal\/\d+\/link\/[\w.-]+/.exec(body);
  if (!match) throw new Error(`no sign-in link in the mail:\n${raw}`);
  return match[0];
}

export const PORTAL_COMPANY = {
  legalName: 'Kistenklee Abo GmbH',
  address: { addressLine1: 'Friedrichstraße 100', zipCode: '10117', cityName: 'Berlin', country: 'DE' },
  vatId: 'DE811907980',
  contactName: 'Erika Mustermann',
  email: 'rechnung@kistenklee.test',
  phone: '+49 30 1234567',
  iban: 'DE89 3704 0044 0532 0130 00',
  bic: 'COBADEFFXXX',
  sepaCreditorId: 'DE98ZZZ09999999999',
};

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/**
 * A customer with an account and a box contract billed every 7 days in advance (one item at 2.00 net a day,
 * 19 % VAT: 14.00 net, 16.66 gross a week), through the operator's API; waits for its first invoice.
 */
export async function boxCustomer(
  call: Call,
  options: { suffix: string; customer: Record<string, unknown>; startDate: string; minimumTerm?: { count: number; unit: string }; extensionPeriod?: { count: number; unit: string } },
): Promise<{ customerNumber: string; accountNumber: string; contractNumber: string; invoiceNumber: string }> {
  const customer = await call('POST', '/Customers', {
    billingAddress: { addressLine1: 'Lindenweg 7', zipCode: '04109', cityName: 'Leipzig', country: 'DE' },
    ...options.customer,
  });
  if (customer.status !== 201) throw new Error(`customer: ${JSON.stringify(customer.body)}`);
  const { customerNumber } = customer.body;
  const account = await call('POST', `/Customers/${customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '1000.00' });
  const group = await call('POST', '/ProductGroups', { code: `BOX-${options.suffix}`, name: 'Abo-Boxen', taxGroup: 'DE_STANDARD', revenueAccount: '8400' });
  if (group.status !== 201 && group.status !== 409) throw new Error(`product group: ${JSON.stringify(group.body)}`);
  const item = await call('POST', '/Items', { itemNumber: `BOX-${options.suffix}`, name: `Gemüsekiste ${options.suffix}`, unit: 'DAY', productGroup: `BOX-${options.suffix}`, prices: [{ price: '2.00', currency: 'EUR' }] });
  if (item.status !== 201) throw new Error(`item: ${JSON.stringify(item.body)}`);
  const contract = await call('POST', '/Contracts', {
    customerNumber,
    accountNumber: account.body.accountNumber,
    startDate: options.startDate,
    billingInterval: { count: 7, unit: 'DAY' },
    invoiceInAdvance: true,
    ...(options.minimumTerm ? { minimumTerm: options.minimumTerm } : {}),
    ...(options.extensionPeriod ? { extensionPeriod: options.extensionPeriod } : {}),
    subscription: [{ itemNumber: `BOX-${options.suffix}`, quantity: '1' }],
  });
  if (contract.status !== 201) throw new Error(`contract: ${JSON.stringify(contract.body)}`);
  const { contractNumber } = contract.body;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const invoices = await call('GET', `/Invoices?contractNumber=${contractNumber}`);
    if (invoices.body?.items?.length >= 1) return { customerNumber, accountNumber: account.body.accountNumber, contractNumber, invoiceNumber: invoices.body.items[0].invoiceNumber };
    if (Date.now() > deadline) throw new Error(`no invoice of ${contractNumber} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
