-- A contract and its workflow are never apart: a new contract is committed marked as waiting for its workflow,
-- and the mark is cleared once the workflow runs (started by the API at once, or found already running).
-- Every worker starts the workflows of contracts still marked (worker/contract-reconciler.ts), so a crash
-- between the commit and the start, or a start whose answer was lost, leaves no contract unbilled.
-- Contracts written before this migration have their workflows: they are not marked.

alter table contracts add column workflow_pending boolean not null default false;

create index contracts_workflow_pending on contracts (id) where workflow_pending;
