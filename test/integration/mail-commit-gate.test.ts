import { releaseUncertainMail } from '../../db/queries/mail-log';
import { notifyOperatorOfCreditLimit } from '../../operations/mail';
import { createMailer, type Mailer } from '../../mail/mailer';
import type { Config } from '../../config/config';
import { createLogger } from '../../config/logger';
import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { createProject } from '../../db/queries/projects';
import { startTestPostgres, startTogether } from '../support/servers';
import { startSmtpPeer } from '../../dev/smtp-peer';

/**
 * The end-of-data mark makes an SMTP server deliver; a mail is only safe from being sent twice once its SENT
 * row is written. The mailer holds the mark back until the database has answered, and abandons the message
 * when it does not, so a slow or absent database never leaves a delivered mail unrecorded for long.
 */

jest.setTimeout(120_000);

let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
let sql: Sql;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>>;
let mailConfig: Config['mail'];

beforeAll(async () => {
  [postgres, smtp] = await startTogether([startTestPostgres(), startSmtpPeer()] as const);
  sql = createSql(postgres.url);
  await migrate(sql);
  mailConfig = { smtpUrl: smtp.url, outboxDir: '/nonexistent', from: 'rechnung@kontor.test', operatorEmail: 'operator@kontor.test' };
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await smtp?.stop();
  await postgres?.stop();
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));
const mailOf = (subject: string) => ({ to: 'kunde@kontor.test', subject, text: 'Guten Tag', messageId: `<${subject}@kontor.test>` });

test('the server has the whole message but delivers nothing until the gate opens', async () => {
  const mailer = createMailer(mailConfig);
  const before = smtp.received.length;
  let deliveredWhileHeld = -1;
  await mailer.send({
    ...mailOf('held'),
    beforeCommit: async () => {
      await settle();
      deliveredWhileHeld = smtp.received.length - before;
    },
  });
  expect(deliveredWhileHeld).toBe(0);
  expect(smtp.received.length - before).toBe(1);
});

test('a gate that fails abandons the message: the send fails with its error and the server delivers nothing', async () => {
  const mailer = createMailer(mailConfig);
  const before = smtp.received.length;
  await expect(mailer.send({ ...mailOf('abandoned'), beforeCommit: () => Promise.reject(new Error('database gone')) })).rejects.toThrow('database gone');
  await settle();
  expect(smtp.received.length - before).toBe(0);
  // the connection it dropped does not disturb the next mail
  await mailer.send(mailOf('after'));
  expect(smtp.received.slice(before).map((mail) => mail.raw.match(/^Subject: (.*)$/m)?.[1])).toEqual(['after']);
});

test('a database too slow to record the send in time: nothing is delivered, and the retry delivers once', async () => {
  const project = await createProject(sql, 'mail-gate', 'Europe/Berlin');
  const key = 'V-GATE:2026-11-25';
  const smtpMailer = createMailer(mailConfig);
  // Once the attempt has logged itself, another transaction holds the mail's row, as a database busy after a
  // restart keeps a statement waiting: the SMTP conversation runs through the real mailer meanwhile.
  let release: (() => void) | null = null;
  let holder: Promise<unknown> = Promise.resolve();
  let holdRow = true;
  const mailer: Mailer = {
    async send(mail) {
      if (holdRow) {
        holdRow = false;
        const locked = new Promise<void>((resolveLocked) => {
          holder = sql.begin(async (tx) => {
            await tx`select id from mail_log where project_id = ${project.id} and business_key = ${key} for update`;
            resolveLocked();
            await new Promise<void>((resolve) => (release = resolve));
          });
        });
        await locked;
      }
      return smtpMailer.send(mail);
    },
  };
  const deps = { sql, mailer, logger: createLogger({ level: 'silent', name: 'test' }), config: { mail: mailConfig } as Config };
  const request = { projectId: project.id, contractNumber: 'V-GATE', pausedOn: '2026-11-25', grossTotal: '119.00', shortfall: '19.00' };
  const before = smtp.received.length;

  const first = notifyOperatorOfCreditLimit(deps, request).then(
    () => 'sent',
    (error: Error) => error.message,
  );
  // the database cancels the gate's update after 1.5 s; the lock goes a little later
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(smtp.received.length - before).toBe(0);
  release!();
  await holder;
  expect(await first).toBe('canceling statement due to statement timeout');
  await settle();
  expect(smtp.received.length - before).toBe(0);
  const logged = () => sql<{ status: string; attempts: number; error: string | null }[]>`
    select status, attempts, error from mail_log where project_id = ${project.id} and business_key = ${key}`;
  expect(await logged()).toEqual([{ status: 'FAILED', attempts: 1, error: 'canceling statement due to statement timeout' }]);

  // Temporal's retry
  expect(await notifyOperatorOfCreditLimit(deps, request)).toBe('SENT');
  expect(smtp.received.length - before).toBe(1);
  expect(await logged()).toEqual([{ status: 'SENT', attempts: 2, error: null }]);
  expect(await notifyOperatorOfCreditLimit(deps, request)).toBe('ALREADY_SENT');
  expect(smtp.received.length - before).toBe(1);
});

test('an attempt cut off after COMMITTING is neither sent again nor counted as delivered: the mail is UNCERTAIN until an operator re-sends it', async () => {
  const project = await createProject(sql, 'mail-interrupted', 'Europe/Berlin');
  const deps = { sql, mailer: createMailer(mailConfig), logger: createLogger({ level: 'silent', name: 'test' }), config: { mail: mailConfig } as Config };
  // what an attempt leaves behind when the database's COMMITTING confirmation was lost with its connection,
  // or when the worker was killed around the end-of-data mark: the server may or may not have the mail
  await sql`
    insert into mail_log (project_id, kind, business_key, recipient, subject, status, attempts)
    values (${project.id}, 'CREDIT_LIMIT_PAUSE', 'V-CUT:2026-11-25', 'operator@kontor.test', 'Vertrag V-CUT', 'COMMITTING', 1)`;
  const before = smtp.received.length;
  const request = { projectId: project.id, contractNumber: 'V-CUT', pausedOn: '2026-11-25', grossTotal: '119.00', shortfall: '19.00' };
  const logged = async () =>
    (await sql<{ status: string; attempts: number; error: string | null }[]>`
      select status, attempts, error from mail_log where project_id = ${project.id} and business_key = 'V-CUT:2026-11-25'`)[0];
  expect(await notifyOperatorOfCreditLimit(deps, request)).toBe('UNCERTAIN');
  expect(await logged()).toEqual({ status: 'UNCERTAIN', attempts: 2, error: expect.stringContaining('may or may not have it') });
  // a further attempt (Temporal's retry of the same activity) sends nothing either
  expect(await notifyOperatorOfCreditLimit(deps, request)).toBe('UNCERTAIN');
  await settle();
  expect(smtp.received.length - before).toBe(0);

  // the operator re-sends it: it goes once, and never again
  await releaseUncertainMail(sql, { projectId: project.id, kind: 'CREDIT_LIMIT_PAUSE', businessKey: 'V-CUT:2026-11-25' });
  expect(await notifyOperatorOfCreditLimit(deps, request)).toBe('SENT');
  expect(await notifyOperatorOfCreditLimit(deps, request)).toBe('ALREADY_SENT');
  await settle();
  expect(smtp.received.length - before).toBe(1);
  expect(await logged()).toMatchObject({ status: 'SENT', error: null });
});

test('a recipient refused with 550 is REFUSED and stays FAILED: the gate never marks it COMMITTING, so sending it again delivers it once', async () => {
  const project = await createProject(sql, 'mail-refused', 'Europe/Berlin');
  const refusing = await startSmtpPeer({ rejectFirst: 1, rejectAt: 'RCPT', rejectCode: 550, rejectMessage: '5.1.1 mailbox unavailable' });
  try {
    const config = { mail: { ...mailConfig, smtpUrl: refusing.url } } as Config;
    const deps = { sql, mailer: createMailer(config.mail), logger: createLogger({ level: 'silent', name: 'test' }), config };
    const request = { projectId: project.id, contractNumber: 'V-REFUSED', pausedOn: '2026-11-25', grossTotal: '119.00', shortfall: '19.00' };
    const logged = () => sql<{ status: string; attempts: number; error: string | null }[]>`
      select status, attempts, error from mail_log where project_id = ${project.id} and business_key = 'V-REFUSED:2026-11-25'`;

    expect(await notifyOperatorOfCreditLimit(deps, request)).toBe('REFUSED');
    // nodemailer may still drain the message through the gate after the refusal: the row must not move
    await settle();
    expect(await logged()).toEqual([{ status: 'FAILED', attempts: 1, error: expect.stringContaining('550 5.1.1 mailbox unavailable') }]);
    expect(refusing.received).toHaveLength(0);

    // sent again (resendMail): delivered, not counted as delivered without a delivery
    expect(await notifyOperatorOfCreditLimit(deps, request)).toBe('SENT');
    expect(refusing.received).toHaveLength(1);
    expect(await logged()).toEqual([{ status: 'SENT', attempts: 2, error: null }]);
  } finally {
    await refusing.stop();
  }
});
