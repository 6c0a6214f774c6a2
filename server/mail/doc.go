// Package mail writes and delivers shopauth's mails to customers: the
// message a mail carries (sealed while it waits in the transactional
// outbox), its text and HTML bodies per language, the transports that
// deliver it (SMTP, or the log for a demo) and the sender that drains the
// outbox on one replica at a time, with retries and backoff.
package mail
