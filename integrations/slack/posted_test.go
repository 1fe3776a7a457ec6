package slack

import (
	"context"
	"runtime"
	"testing"

	"github.com/tocsin/tocsin/integrations/slack/slacktest"
)

// A delivery whose earlier attempt was cut off after Slack took the post
// (the process was killed) is retried Unsure: the notifier finds the
// message by its metadata mark and answers its handle instead of posting
// a second alert.
func TestNotifier_Notify_unsureFindsEarlierPost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, target := range []string{"#ops", slacktest.ChannelID("#ops")} {
		t.Run(target, func(t *testing.T) {
			b := setup(t, false)
			n := notification()
			n.Target = target
			// The first attempt: Slack posts, the answer never comes.
			b.fake.Set("chat.postMessage", slacktest.Answer{Hang: true, Times: 1})
			cut, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				_, err := b.notifier.Notify(cut, n)
				done <- err
			}()
			// Slack took the post once the fake holds it (it counts the
			// call a moment before).
			for len(b.fake.Messages(slacktest.ChannelID("#ops"))) == 0 {
				if len(done) > 0 {
					t.Fatalf("the first attempt ended before posting: %v", <-done)
				}
				runtime.Gosched()
			}
			cancel()
			if err := <-done; err == nil {
				t.Fatal("the cut-off attempt reported success")
			}
			posted := b.fake.Messages(slacktest.ChannelID("#ops"))
			if len(posted) != 1 || posted[0].Metadata == nil {
				t.Fatalf("Slack holds %+v, want the first attempt's message with its metadata", posted)
			}

			n.Unsure = true
			res, err := b.notifier.Notify(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(b.fake.Messages(slacktest.ChannelID("#ops"))); got != 1 {
				t.Errorf("Slack holds %d messages after the retry, want the first one only", got)
			}
			if want := slacktest.ChannelID("#ops") + ":" + posted[0].TS; res.Handle != want {
				t.Errorf("handle %q, want the earlier message's %q", res.Handle, want)
			}

			// Another notification, also Unsure, finds no mark of its own
			// and posts.
			other := notification()
			other.Target, other.IdempotencyKey, other.Unsure = target, "rule-7:issue-42:#ops:2", true
			res, err = b.notifier.Notify(ctx, other)
			if err != nil {
				t.Fatal(err)
			}
			msgs := b.fake.Messages(slacktest.ChannelID("#ops"))
			if len(msgs) != 2 || res.Handle != slacktest.ChannelID("#ops")+":"+msgs[1].TS {
				t.Errorf("after a second notification Slack holds %d messages and the handle is %q; want it posted", len(msgs), res.Handle)
			}
		})
	}
}

// A first attempt does not read the channel's history: that costs a call
// per alert and is only needed after a lost answer.
func TestNotifier_Notify_sureDoesNotLook(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	if _, err := b.notifier.Notify(context.Background(), notification()); err != nil {
		t.Fatal(err)
	}
	if n := b.fake.Calls("conversations.history") + b.fake.Calls("conversations.list"); n != 0 {
		t.Errorf("a first attempt made %d history or list calls", n)
	}
}
