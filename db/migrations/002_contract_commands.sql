-- The answer of every command a contract workflow carried out, keyed by the Temporal update id (the API's
-- Idempotency-Key when given): a retried activity finds its committed answer here instead of acting twice.
create table contract_commands (
  id bigserial primary key,
  contract_id bigint not null references contracts,
  command_key text not null,
  kind text not null,
  result jsonb not null,
  created_at timestamptz not null default now(),
  unique (contract_id, command_key)
);
