package github

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations"
)

func TestEscapeInline(t *testing.T) {
	t.Parallel()
	const wj = wordJoiner
	for _, c := range []struct{ in, want string }{
		{"plain text 42", "plain text 42"},
		{"@here", `\@` + wj + "here"},
		{"cc @org/team", `cc \@` + wj + `org\/team`},
		{"![x](http://evil)", `\!\[x\]\(http\:\/\/evil\)`},
		{"<script>alert(1)</script>", `\<script\>alert\(1\)\<\/script\>`},
		{"see #12 and octo/app#3", `see \#` + wj + `12 and octo\/app\#` + wj + "3"},
		{"**b** _i_ `c` ~~s~~ | t |", `\*\*b\*\* \_i\_ \` + "`" + `c\` + "`" + ` \~\~s\~\~ \| t \|`},
		{"&lt;b&gt; &#64;x", `\&lt\;b\&gt\; \&\#` + wj + `64\;x`},
		{"# heading\n> quote\r\n- item", `\#` + wj + ` heading \> quote  \- item`},
		{"back\\slash", `back\\slash`},
		{"www.evil.example", `www\.evil\.example`},
		{"bidi \u202eevil\u202c ctl\x00\x1b", "bidi evil ctl"},
		{"unicode: 除以零 ✓", `unicode\: 除以零 ✓`},
		{"bad utf8 \xff", "bad utf8 \uFFFD"},
	} {
		if got := escapeInline(c.in, 0); got != c.want {
			t.Errorf("escapeInline(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	if got := escapeInline(strings.Repeat("a", 50), 10); got != "aaaaaaaaa…" {
		t.Errorf("clipped to %q", got)
	}
}

func TestCodeBlock(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		lines []string
		fence string
	}{
		{[]string{"main in run at line 3"}, "```"},
		{[]string{"a ``` b"}, "````"},
		{[]string{"```", "x ```````` y", "`"}, "`````````"},
		{[]string{"~~~", "@here ![x](http://evil) <script>"}, "```"},
	} {
		got := codeBlock(c.lines)
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if lines[0] != c.fence+"text" || lines[len(lines)-1] != c.fence {
			t.Errorf("codeBlock(%q) = %q, want fence %q", c.lines, got, c.fence)
		}
		if inner := strings.Join(lines[1:len(lines)-1], "\n"); inner != strings.Join(c.lines, "\n") {
			t.Errorf("codeBlock(%q) changed the content to %q", c.lines, inner)
		}
	}
}

// outsideCode drops fenced code blocks (which GitHub renders verbatim:
// no links, HTML or mentions) and HTML comments (the markers).
func outsideCode(t *testing.T, md string) string {
	t.Helper()
	var out []string
	fence := ""
	for _, l := range strings.Split(md, "\n") {
		switch {
		case fence == "" && strings.HasPrefix(l, "```"):
			fence = strings.TrimRight(l, "abcdefghijklmnopqrstuvwxyz")
		case fence != "" && l == fence:
			fence = ""
		case fence == "" && strings.HasPrefix(l, "<!-- tocsin:") && strings.HasSuffix(l, " -->"):
		case fence == "":
			out = append(out, l)
		}
	}
	if fence != "" {
		t.Fatalf("unclosed code block in\n%s", md)
	}
	return strings.Join(out, "\n")
}

var (
	mentionRE   = regexp.MustCompile(`(^|[^\w\\])@[A-Za-z0-9]`)
	referenceRE = regexp.MustCompile(`#[0-9]`)
)

// markup is the sequence of Markdown-significant characters in text that
// no backslash escapes: the document's structure.
func markup(text string) string {
	var b strings.Builder
	escaped := false
	for _, r := range text {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case strings.ContainsRune("[]()<>*_`~|!@#&", r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// notifyAll files nt and sends it follow-ups, returning the Markdown of
// the issue body and of each comment.
func notifyAll(t *testing.T, nt *integrations.Notification) (title string, bodies []string) {
	b := setup(t)
	res := notify(t, b.notifier, nt)
	for _, kind := range []string{integrations.KindRegression, integrations.KindResolved, integrations.KindAssigned, integrations.KindAlert} {
		f := *nt
		f.Kind, f.Handle, f.IdempotencyKey = kind, res.Handle, "k:"+kind
		notify(t, b.notifier, &f)
	}
	is := b.fake.Issue("octo/app", 1)
	bodies = append(bodies, is.Body)
	for _, c := range is.Comments {
		bodies = append(bodies, c.Body)
	}
	return is.Title, bodies
}

// Event data written by whoever can make an application fail becomes
// nothing but text in the issue body and in comments: the Markdown
// structure with hostile data is the same as with plain words.
func TestNotifier_Notify_escapesEventData(t *testing.T) {
	t.Parallel()
	hostile := "@here @org/team ![x](http://evil/pixel.png) [click](javascript:alert(1)) <script>alert(1)</script> <img src=x onerror=alert(1)> #1 **b** _i_ `c` ~~s~~ | a | b | &#64;e"
	with := func(text string, stack []string) *integrations.Notification {
		nt := sample()
		nt.Issue.Title = "Error: " + text
		nt.Issue.Culprit = text + " in <module>"
		nt.Issue.ShortID = "X-[1](http://evil)" + text
		nt.Issue.Project.Name = "<b>proj</b>" + text
		nt.Issue.Assignee = "@assignee <i>" + text
		nt.Event.Message = "message " + text + "\n\n# injected heading\n> quote"
		nt.Event.Environment = "prod " + text
		nt.Event.Release = "![r](http://evil)" + text
		nt.Event.Tags = [][2]string{{"<k>" + text, "@v" + text}}
		nt.Event.Stacktrace = stack
		nt.Rule.Name = "rule " + text
		nt.Actor = "@actor <b>" + text
		return nt
	}
	plain := strings.Map(func(r rune) rune {
		if r < 0x80 && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ') {
			return -1
		}
		return r
	}, hostile)
	clean := with(plain, []string{"frame one", "frame two"})
	clean.Issue.ShortID, clean.Issue.Project.Name, clean.Issue.Assignee = "X1", "proj", "assignee"
	clean.Event.Message, clean.Event.Release, clean.Actor = "message "+plain+" injected heading quote", "r", "actor"
	clean.Event.Tags = [][2]string{{"k", "v"}}
	_, want := notifyAll(t, clean)
	title, got := notifyAll(t, with(hostile, []string{"```", "@here ![x](http://evil) <script>", "````"}))

	if len(got) != len(want) {
		t.Fatalf("%d bodies, want %d", len(got), len(want))
	}
	for i, body := range got {
		text := outsideCode(t, body)
		// What Markdown sees: an escaped character is no syntax.
		seen := regexp.MustCompile(`\\[[:punct:]]`).ReplaceAllString(text, "\x00")
		for _, bad := range []string{"@here", "@org", "](http://evil", "![", "<script", "<img", "<b>", "<k>", "javascript:alert", "&#64;"} {
			if strings.Contains(seen, bad) {
				t.Errorf("body %d: %q outside a code block:\n%s", i, bad, text)
			}
		}
		if m := mentionRE.FindString(text); m != "" || strings.Contains(text, "@here") {
			t.Errorf("body %d: a mention %q:\n%s", i, m, text)
		}
		if m := referenceRE.FindString(text); m != "" {
			t.Errorf("body %d: an issue reference %q:\n%s", i, m, text)
		}
		if g, w := markup(text), markup(outsideCode(t, want[i])); g != w {
			t.Errorf("body %d: markup %q, want %q as with plain words:\n%s", i, g, w, body)
		}
	}
	if !strings.Contains(got[0], "\n`````text\n") {
		t.Errorf("the stack trace is not fenced with five backticks:\n%s", got[0])
	}
	if strings.Contains(title, "\n") || !strings.HasPrefix(title, "[X-[1](http://evil)@here") {
		t.Errorf("title %q", title)
	}
}
