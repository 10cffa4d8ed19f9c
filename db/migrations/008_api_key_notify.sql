-- API processes keep the identities of recently presented keys in memory. Any change to a key or a project
-- (a revocation through the API or by hand in SQL) tells every one of them to forget what it holds.

create function notify_api_keys_changed() returns trigger language plpgsql as $$
begin
  perform pg_notify('kontor_api_keys_changed', '');
  return null;
end;
$$;

create trigger api_keys_changed after update or delete on api_keys
  for each statement execute function notify_api_keys_changed();

create trigger projects_changed after update or delete on projects
  for each statement execute function notify_api_keys_changed();
