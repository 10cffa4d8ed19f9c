-- COMMITTING: the SMTP server has the whole message and the attempt is about to send the end-of-data mark
-- that makes the server deliver it. Only a crash between that mark and recording SENT leaves a row in this
-- state; the next attempt then knows the recipient may already have the mail.

alter table mail_log drop constraint mail_log_status_check;
alter table mail_log add constraint mail_log_status_check check (status in ('PENDING', 'COMMITTING', 'SENT', 'FAILED'));
