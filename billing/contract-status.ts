/**
 * The status a contract takes when it is terminated. A contract paused at its credit limit stays paused: it
 * must still be billed up to its end date once the account can take the invoice, and only a billing run
 * lifts the pause. The workflow's state and the books both apply this one rule.
 */
export function statusAfterTermination<Status extends string>(status: Status): Status | 'TERMINATED' {
  return status === 'PAUSED' ? status : 'TERMINATED';
}
