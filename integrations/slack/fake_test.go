package slack

import (
	"testing"

	"github.com/tocsin/tocsin/integrations/slack/slacktest"
)

const (
	testToken       = "xoxb-1111-2222-SECRETbottoken"
	testWebhookPath = "/services/T0001/B0002/SECRETwebhookpath"
	testSigning     = "8f742231b10e8888abcd99yyyzzz85a5"
)

// newFake starts a fake Slack that takes testToken and the webhook at
// testWebhookPath.
func newFake(t *testing.T) *slacktest.Server {
	t.Helper()
	return slacktest.NewServer(t, testToken, testWebhookPath)
}
