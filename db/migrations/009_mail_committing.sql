-- COMMITTING: the SMTP server has the whole message and the attempt is about to send the end-of-data mark
-- that makes the server deliver it. Only a crash after that leaves a row in this state; the next attempt then
-- counts the mail as delivered instead of sending it a second time.

alter table mail_log drop constraint mail_log_status_check;
alter table mail_log add constraint mail_log_status_check check (status in ('PENDING', 'COMMITTING', 'SENT', 'FAILED'));
