package email

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/tocsin/tocsin/integrations"
)

// classify turns a failed attempt into the worker's error values. SMTP
// reply codes (RFC 5321 §4.2) are read from go-mail's *SendError or the
// *textproto.Error of the greeting, STARTTLS and AUTH:
//
//	421, or any 4xx naming a wait    retry, rate_limited (After = the wait)
//	other 4xx (450, 451, 452, …)     retry, server
//	530, 534, 535, 538               permanent, auth
//	550, 551                         permanent, not_found (mailbox unavailable)
//	other 5xx                        permanent, client
//
// Without a reply: a server that cannot do what the settings ask (no
// STARTTLS, no usable AUTH mechanism) is permanent config; connection,
// TLS and timeout failures retry as network. err's text comes from
// go-mail and the server, neither of which repeats the password.
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &integrations.RetryError{Reason: integrations.ReasonNetwork, Err: fmt.Errorf("%w (%w)", err, context.Cause(ctx))}
	}
	if code, text := replyCode(err); code >= 400 {
		return classifyReply(code, text, err)
	}
	msg := err.Error()
	if errors.Is(err, mail.ErrNoSupportedAuthDiscovered) || errors.Is(err, smtp.ErrUnencrypted) ||
		strings.Contains(msg, "does not support STARTTLS") || strings.Contains(msg, "does not support SMTP AUTH") {
		return &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
	}
	return &integrations.RetryError{Reason: integrations.ReasonNetwork, Err: err}
}

func replyCode(err error) (int, string) {
	var se *mail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode(), se.Error()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code, te.Msg
	}
	return 0, ""
}

func classifyReply(code int, text string, err error) error {
	if code < 500 {
		wait := replyWait(text)
		if code == 421 || wait > 0 {
			return &integrations.RetryError{Reason: integrations.ReasonRateLimited, After: wait, Err: err}
		}
		return &integrations.RetryError{Reason: integrations.ReasonServer, Err: err}
	}
	switch code {
	case 530, 534, 535, 538:
		return &integrations.PermanentError{Reason: integrations.ReasonAuth, Err: err}
	case 550, 551:
		return &integrations.PermanentError{Reason: integrations.ReasonNotFound, Err: err}
	}
	return &integrations.PermanentError{Reason: integrations.ReasonClient, Err: err}
}

// waitPattern finds the wait some servers put in a 4xx reply: "retry after
// 5 seconds", "try again in 2 minutes", "retry in 30s".
var waitPattern = regexp.MustCompile(`(?i)\b(?:retry|try\s+again)\s+(?:after|in)\s+(\d{1,6})\s*(seconds?|secs?|s|minutes?|mins?|m)?\b`)

// replyWait is the wait a reply names, capped as Retry-After is; 0 if none.
func replyWait(text string) time.Duration {
	m := waitPattern.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	secs, _ := strconv.Atoi(m[1])
	if strings.HasPrefix(strings.ToLower(m[2]), "m") {
		secs *= 60
	}
	return integrations.ParseRetryAfter(strconv.Itoa(secs), time.Time{})
}
