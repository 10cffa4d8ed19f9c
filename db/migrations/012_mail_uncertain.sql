-- A mail whose attempt was cut off after the database marked it COMMITTING: the SMTP server may or may not
-- have it. It is neither sent again by itself nor counted as delivered; an operator re-sends it.
alter table mail_log drop constraint mail_log_status_check;
alter table mail_log add constraint mail_log_status_check check (status in ('PENDING', 'COMMITTING', 'SENT', 'FAILED', 'UNCERTAIN'));
