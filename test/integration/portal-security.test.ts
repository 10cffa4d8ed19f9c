import { createHash } from 'node:crypto';
import { checkBookInvariants } from '../../dev/book-invariants';
import { startSmtpPeer } from '../../dev/smtp-peer';
import { startTestEngine, type TestEngine, type TestWorker } from '../support/engine';
import { boxCustomer, PORTAL_COMPANY, PortalVisitor, signInLinkIn, startPortalServer } from '../support/portal';
import { waitFor } from '../support/wait';
import { today } from '../support/clock';

/*
 * The customer center's defences, by plain HTTP on the real stack: a mailed link signs in once and for 15
 * minutes only, a customer reaches only their own contracts and invoices (another's is 404, whatever URL is
 * guessed), no form is accepted without its CSRF token, sign-in requests are limited per address, and nothing
 * of another project is visible with this project's link or session.
 */

jest.setTimeout(300_000);

let engine: TestEngine;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>>;
let worker: TestWorker;
let portal: Awaited<ReturnType<typeof startPortalServer>>;
let base: string;
let anna: Awaited<ReturnType<typeof boxCustomer>>;
let bernd: Awaited<ReturnType<typeof boxCustomer>>;
let otherProject: { id: string; key: string; customerNumber: string };

async function callAs(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${portal.origin}/api/v1${path}`, {
    method,
    headers: { 'api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Signs a visitor in through a link the operator asked for (no mail). */
async function signedIn(customerNumber: string): Promise<PortalVisitor> {
  const link = await engine.call('POST', `/Customers/${customerNumber}/portalLink`, {});
  expect(link.status).toBe(201);
  const visitor = new PortalVisitor(portal.origin);
  expect((await visitor.get(new URL(link.body.url).pathname)).status).toBe(200);
  const overview = await visitor.post(`${base}/link`, { token: visitor.field('token') });
  expect(overview.status).toBe(200);
  return visitor;
}

beforeAll(async () => {
  smtp = await startSmtpPeer();
  engine = await startTestEngine({ smtpUrl: smtp.url });
  worker = await engine.startWorker({ inProcess: true });
  portal = await startPortalServer(engine);
  base = `/portal/${engine.projectId}`;
  expect((await engine.call('PUT', '/Company', PORTAL_COMPANY)).status).toBe(200);
  anna = await boxCustomer(engine.call, { suffix: 'A', startDate: today(), customer: { firstName: 'Anna', lastName: 'Apfel', email: 'anna@kunde.test', locale: 'de-DE' } });
  bernd = await boxCustomer(engine.call, { suffix: 'B', startDate: today(), customer: { companyName: '<b>Birne</b> & "Söhne"', email: 'bernd@kunde.test' } });
  const otherKey = await engine.createProjectKey(`other-${Date.now()}`);
  const otherCustomer = await callAs(otherKey, 'POST', '/Customers', { firstName: 'Anna', lastName: 'Apfel', email: 'anna@kunde.test' });
  expect(otherCustomer.status).toBe(201);
  const projects = await callAs(otherKey, 'GET', '/Projects');
  otherProject = { id: projects.body.items[0].id, key: otherKey, customerNumber: otherCustomer.body.customerNumber };
});

afterAll(async () => {
  await portal?.stop();
  await worker?.stop();
  await engine?.stop();
  await smtp?.stop();
});

test('the mailed link signs in once: the session cookie is HttpOnly and SameSite=Lax, the same link again is refused', async () => {
  const visitor = new PortalVisitor(portal.origin);
  await visitor.get(`${base}/sign-in`);
  const mailsBefore = smtp.received.length;
  const requested = await visitor.post(`${base}/sign-in`, { email: 'ANNA@kunde.test' });
  expect(requested.status).toBe(200);
  const linkMails = () => smtp.received.slice(mailsBefore).filter((received) => received.raw.includes('/link/'));
  const [mail] = await waitFor(async () => linkMails(), (found) => found.length > 0);
  expect(mail!.to).toEqual(['anna@kunde.test']);
  const link = signInLinkIn(mail!.raw);
  expect(link.startsWith(`${portal.origin}${base}/link/`)).toBe(true);
  // only Anna of this project: the customer of the other project with the same address gets nothing from here
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(linkMails()).toHaveLength(1);

  // opening the link (a mail scanner would) uses nothing up; the button does
  expect((await visitor.get(new URL(link).pathname)).status).toBe(200);
  expect((await visitor.get(new URL(link).pathname)).status).toBe(200);
  const token = visitor.field('token')!;
  const overview = await visitor.post(`${base}/link`, { token });
  expect(overview.status).toBe(200);
  expect(overview.text).toContain('Anna Apfel');
  expect(overview.text).toContain(anna.contractNumber);
  const setCookie = visitor.redirect!.headers.getSetCookie().find((header) => header.startsWith('kontor_portal_session='))!;
  expect(setCookie).toMatch(/; HttpOnly/);
  expect(setCookie).toMatch(/; SameSite=Lax/);
  expect(setCookie).toContain(`Path=${base}`);

  const again = new PortalVisitor(portal.origin);
  await again.get(`${base}/sign-in`);
  const reused = await again.post(`${base}/link`, { token });
  expect(reused.status).toBe(403);
  expect(again.cookies.has('kontor_portal_session')).toBe(false);
  expect((await again.get(new URL(link).pathname)).status).toBe(403);
});

test('a link older than 15 minutes is refused, and a forged or altered token is refused', async () => {
  const link = await engine.call('POST', `/Customers/${anna.customerNumber}/portalLink`, {});
  expect(link.status).toBe(201);
  const issuedAt = Date.now();
  const expiresIn = new Date(link.body.expiresAt).getTime() - issuedAt;
  expect(expiresIn).toBeGreaterThan(14 * 60_000);
  expect(expiresIn).toBeLessThanOrEqual(15 * 60_000 + 5_000);
  const token = new URL(link.body.url).pathname.split('/').pop()!;
  // the clock moves on 15 minutes for this link
  const moved = await engine.sql`update portal_sign_in_links set created_at = created_at - interval '15 minutes', expires_at = expires_at - interval '15 minutes'
    where token_hash = ${createHash('sha256').update(token).digest('hex')}`;
  expect(moved.count).toBe(1);
  const visitor = new PortalVisitor(portal.origin);
  await visitor.get(`${base}/sign-in`);
  expect((await visitor.post(`${base}/link`, { token })).status).toBe(403);

  const [random, signature] = token.split('.') as [string, string];
  const forged = `${random.slice(0, -1)}${random.endsWith('A') ? 'B' : 'A'}.${signature}`;
  expect((await visitor.post(`${base}/link`, { token: forged })).status).toBe(403);
  expect((await visitor.post(`${base}/link`, { token: random })).status).toBe(403);
  expect(visitor.cookies.has('kontor_portal_session')).toBe(false);
});

test("another customer's invoice, correction and contract are 404 by URL guessing; one's own answer", async () => {
  const visitor = await signedIn(anna.customerNumber);
  const own = await fetch(`${portal.origin}${base}/invoices/${anna.invoiceNumber}/document?format=pdf`, { headers: { cookie: cookieOf(visitor) } });
  expect(own.status).toBe(200);
  expect(own.headers.get('content-type')).toBe('application/pdf');
  expect(Buffer.from(await own.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');

  expect((await visitor.get(`${base}/invoices/${bernd.invoiceNumber}/document?format=pdf`)).status).toBe(404);
  expect((await visitor.get(`${base}/invoices/${bernd.invoiceNumber}/document?format=xrechnung`)).status).toBe(404);
  expect((await visitor.get(`${base}/contracts/${bernd.contractNumber}`)).status).toBe(404);
  const invoices = await visitor.get(`${base}/invoices`);
  expect(invoices.text).toContain(anna.invoiceNumber);
  expect(invoices.text).not.toContain(bernd.invoiceNumber);

  // a storno of Bernd's invoice gives a correction; its document is not Anna's either
  const storno = await engine.call('POST', `/Invoices/${bernd.invoiceNumber}/cancel`, { reason: 'Test' });
  expect(storno.status).toBe(200);
  expect((await visitor.get(`${base}/corrections/${storno.body.invoiceCorrectionNumber}/document`)).status).toBe(404);

  // a pause of Bernd's contract from Anna's session: not found, nothing paused
  await visitor.get(`${base}/contracts/${anna.contractNumber}`);
  const pause = await visitor.post(`${base}/contracts/${bernd.contractNumber}/pause`, { from: today(), until: '2099-01-01' });
  expect(pause.status).toBe(404);
  const pauses = await engine.sql<{ count: string }[]>`
    select count(*) as count from delivery_pauses p join contracts c on c.id = p.contract_id where c.contract_number = ${bernd.contractNumber}`;
  expect(pauses[0]!.count).toBe('0');
});

test('every value is HTML-escaped: a company name with markup shows as text', async () => {
  const visitor = await signedIn(bernd.customerNumber);
  const overview = await visitor.get(`${base}/overview`);
  expect(overview.text).toContain('&lt;b&gt;Birne&lt;/b&gt; &amp; &quot;Söhne&quot;');
  expect(overview.text).not.toContain('<b>Birne</b>');
  const policy = overview.headers.get('content-security-policy')!;
  expect(policy).toContain("default-src 'none'");
  expect(policy).not.toContain('script-src');
  expect(policy).toContain("form-action 'self'");
  expect(overview.headers.get('cache-control')).toBe('no-store');
  // the style sheet is a file of this origin, served as CSS (a page's type would make the browser drop it)
  const styles = await fetch(`${portal.origin}${base}/assets/portal.css`);
  expect(styles.headers.get('content-type')).toMatch(/^text\/css/);
});

test('a form without its CSRF token, or with another, is refused and changes nothing', async () => {
  const count = async () => Number((await engine.sql<{ count: string }[]>`select count(*) as count from portal_terminations`)[0]!.count);
  const before = await count();
  const visitor = new PortalVisitor(portal.origin);
  await visitor.get(`${base}/kuendigen`);
  const form = { customerName: 'Anna Apfel', email: 'anna@kunde.test', contractNumber: anna.contractNumber, kind: 'ORDINARY', requestedEndDate: '' };
  expect((await visitor.post(`${base}/kuendigen`, { ...form, _csrf: null })).status).toBe(403);
  expect((await visitor.post(`${base}/kuendigen`, { ...form, _csrf: 'x'.repeat(43) })).status).toBe(403);
  // a token of one visitor is not another's
  const stranger = new PortalVisitor(portal.origin);
  await stranger.get(`${base}/kuendigen`);
  expect((await visitor.post(`${base}/kuendigen`, { ...form, _csrf: stranger.field('_csrf') })).status).toBe(403);
  expect(await count()).toBe(before);

  const signedInVisitor = await signedIn(anna.customerNumber);
  await signedInVisitor.get(`${base}/contracts/${anna.contractNumber}`);
  const pause = await signedInVisitor.post(`${base}/contracts/${anna.contractNumber}/pause`, { from: today(), until: '2099-01-01', _csrf: null });
  expect(pause.status).toBe(403);
  await signedInVisitor.get(`${base}/mandate`);
  expect((await signedInVisitor.post(`${base}/mandate`, { iban: 'DE02120300000000202051', accountHolder: 'Anna Apfel', _csrf: null })).status).toBe(403);
  const customer = await engine.call('GET', `/Customers/${anna.customerNumber}`);
  expect(customer.body.sepaMandate).toBeNull();
  expect((await signedInVisitor.post(`${base}/sign-out`, { _csrf: null })).status).toBe(403);
  expect((await signedInVisitor.get(`${base}/overview`)).status).toBe(200);

  // signing out ends the session in the books: the old cookie signs nobody in any more
  const session = signedInVisitor.cookies.get('kontor_portal_session')!;
  expect((await signedInVisitor.post(`${base}/sign-out`, {})).status).toBe(200);
  const replayed = await fetch(`${portal.origin}${base}/overview`, { headers: { cookie: `kontor_portal_session=${session}` } });
  expect(replayed.status).toBe(401);
});

test("a customer whose locale is English gets the pages in English", async () => {
  const created = await engine.call('POST', '/Customers', { firstName: 'Emma', lastName: 'Elm', email: 'emma@kunde.test', locale: 'en-GB' });
  expect(created.status).toBe(201);
  const visitor = await signedIn(created.body.customerNumber);
  const overview = await visitor.get(`${base}/overview`);
  expect(overview.text).toContain('<html lang="en">');
  expect(overview.text).toContain('Welcome, Emma Elm');
  expect(overview.text).toContain('You have no contracts.');
  expect(overview.text).toContain('Cancel contracts here');
});

test('sign-in requests are limited per address: the sixth within 15 minutes is 429, and no mail goes to an unknown address', async () => {
  const visitor = new PortalVisitor(portal.origin);
  await visitor.get(`${base}/sign-in`);
  const mailsBefore = smtp.received.length;
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 6; attempt += 1) statuses.push((await visitor.post(`${base}/sign-in`, { email: 'niemand@unbekannt.test' })).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  // the page says the same for a known and an unknown address
  expect(visitor.last!.text).toContain('Zu viele Anfragen');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(smtp.received.slice(mailsBefore)).toHaveLength(0);
});

test('behind a trusted proxy the sign-in limit counts each client address from X-Forwarded-For; without one, the header is ignored', async () => {
  // the forwarded addresses are documentation addresses (RFC 5737); every request goes to the loopback servers
  const signIns = async (origin: string, forwardedFor: (attempt: number) => string, attempts: number) => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const visitor = new PortalVisitor(origin, { 'x-forwarded-for': forwardedFor(attempt) });
      await visitor.get(`${base}/sign-in`);
      // an address of its own per attempt, so that the per-address limit (5) never decides
      statuses.push((await visitor.post(`${base}/sign-in`, { email: `proxy-${attempt}-${Date.now()}@unbekannt.test` })).status);
    }
    return statuses;
  };
  const behindProxy = await startPortalServer(engine, { trustProxy: ['loopback'] });
  const direct = await startPortalServer(engine);
  try {
    const eachOwn = await signIns(behindProxy.origin, (attempt) => `203.0.113.${attempt + 1}`, 25);
    expect(eachOwn.filter((status) => status === 429)).toHaveLength(0);
    const oneClient = await signIns(behindProxy.origin, () => '198.51.100.7', 21);
    expect(oneClient.indexOf(429)).toBe(20);
    // without a trusted proxy every request counts for the connection's address, whatever the header claims
    const claimed = await signIns(direct.origin, (attempt) => `203.0.113.${attempt + 1}`, 21);
    expect(claimed.indexOf(429)).toBe(20);
  } finally {
    await behindProxy.stop();
    await direct.stop();
  }
});

test("nothing of another project: this project's link and session are refused there, and its key cannot issue links for this project's customers", async () => {
  const otherBase = `/portal/${otherProject.id}`;
  const link = await engine.call('POST', `/Customers/${anna.customerNumber}/portalLink`, {});
  const token = new URL(link.body.url).pathname.split('/').pop()!;
  const visitor = new PortalVisitor(portal.origin);
  expect((await visitor.get(`${otherBase}/link/${token}`)).status).toBe(403);
  expect((await visitor.post(`${otherBase}/link`, { token })).status).toBe(403);

  const annaVisitor = await signedIn(anna.customerNumber);
  const session = annaVisitor.cookies.get('kontor_portal_session')!;
  const elsewhere = await fetch(`${portal.origin}${otherBase}/overview`, { headers: { cookie: `kontor_portal_session=${session}` } });
  expect(elsewhere.status).toBe(401);
  const elsewhereInvoice = await fetch(`${portal.origin}${otherBase}/invoices/${anna.invoiceNumber}/document`, { headers: { cookie: `kontor_portal_session=${session}` } });
  expect(elsewhereInvoice.status).toBe(401);

  // the other project's key knows only its own customers (Anna's number there may exist: it is that project's customer)
  const issued = await callAs(otherProject.key, 'POST', `/Customers/${bernd.customerNumber}/portalLink`, {});
  if (issued.status === 201) expect(issued.body.url).toContain(`${otherBase}/link/`);
  else expect(issued.status).toBe(404);
  expect((await fetch(`${portal.origin}/portal/999999/sign-in`)).status).toBe(404);
});

function cookieOf(visitor: PortalVisitor): string {
  return [...visitor.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

test('a cancellation form posted twice is one termination with one time of receipt and one confirmation mail; the page is English on request', async () => {
  const visitor = new PortalVisitor(portal.origin);
  const english = await visitor.get(`${base}/kuendigen?lang=en`);
  expect(english.text).toContain('<html lang="en">');
  expect(english.text).toContain('Cancel contracts here');
  const fields = {
    _csrf: visitor.field('_csrf'),
    submission: visitor.field('submission'),
    customerName: 'Bernd Birne',
    customerNumber: bernd.customerNumber,
    email: 'bernd@kunde.test',
    contractNumber: bernd.contractNumber,
    kind: 'ORDINARY',
    requestedEndDate: '',
    lang: 'en',
  };
  const first = await visitor.post(`${base}/kuendigen`, fields);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const second = await visitor.post(`${base}/kuendigen`, fields);
  expect([first.status, second.status]).toEqual([200, 200]);
  const receivedAt = (text: string) => /Received on ([^<]+)\./.exec(text)?.[1];
  expect(receivedAt(first.text)).toMatch(/^\d{4}-\d\d-\d\d at \d\d:\d\d:\d\d$/);
  expect(receivedAt(second.text)).toBe(receivedAt(first.text));
  expect(second.text).toContain(`Contract ${bernd.contractNumber} ends at the end of`);
  const rows = await engine.sql`select outcome from portal_terminations where submission_key = ${fields.submission}`;
  expect(rows).toEqual([{ outcome: 'TERMINATED' }]);
  const mails = await engine.call('GET', '/MailLog?kind=PORTAL_TERMINATION');
  expect(mails.body.items.filter((mail: any) => mail.recipient === 'bernd@kunde.test')).toEqual([expect.objectContaining({ status: 'SENT' })]);
  expect(smtp.received.filter((mail) => mail.to.includes('bernd@kunde.test') && mail.raw.includes('Confirmation of your termination'))).toHaveLength(1);
});

test('with no worker to answer, the termination is still confirmed as received and kept for the operator', async () => {
  await worker.stop();
  const visitor = new PortalVisitor(portal.origin);
  await visitor.get(`${base}/kuendigen`);
  const answer = await visitor.post(`${base}/kuendigen`, {
    customerName: 'Anna Apfel',
    email: 'anna@kunde.test',
    customerNumber: '',
    contractNumber: anna.contractNumber,
    kind: 'ORDINARY',
    requestedEndDate: '',
  });
  expect(answer.status).toBe(200);
  expect(answer.text).toMatch(/Eingegangen am \d\d\.\d\d\.\d{4} um \d\d:\d\d:\d\d Uhr\./);
  expect(answer.text).toContain(`Wir prüfen Ihre Kündigung des Vertrags ${anna.contractNumber}`);
  const recorded = await engine.call('GET', '/PortalTerminations');
  expect(recorded.body.items).toContainEqual(
    expect.objectContaining({ contractNumber: anna.contractNumber, outcome: 'RECORDED', note: expect.stringContaining("the contract's workflow gave no answer") }),
  );
});

test('the books stay consistent', async () => {
  expect(await checkBookInvariants(engine.sql)).toEqual([]);
});
