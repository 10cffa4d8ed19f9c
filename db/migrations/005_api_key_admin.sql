-- The first key of project `default` may create projects; every other key sees its own project only.
alter table api_keys add column is_admin boolean not null default false;

update api_keys set is_admin = true
where id = (
  select k.id from api_keys k join projects p on p.id = k.project_id
  where p.name = 'default'
  order by k.created_at, k.id
  limit 1
);
