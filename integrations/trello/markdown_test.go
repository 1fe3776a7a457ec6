package trello

import (
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations"
)

func TestMd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"plain words", "Cannot read properties", "Cannot read properties"},
		{"link", "[click](https://evil.example)", `\[click\]\(https\:` + wordJoiner + `//evil\.example\)`},
		{"bare address", "see www.evil.example", "see www" + wordJoiner + `\.evil\.example`},
		{"image", "![x](y)", `\!\[x\]\(y\)`},
		{"html", "<img src=x onerror=alert(1)>", `\<img src=x onerror=alert\(1\)\>`},
		{"entity", "&lt;", `\&lt;`},
		{"emphasis and code", "*a* _b_ `c` ~~d~~", "\\*a\\* \\_b\\_ \\`c\\` \\~\\~d\\~\\~"},
		{"heading after a newline", "x\n# y", `x \# y`},
		{"mentions", "@board @card @alice", "@\u2060board @\u2060card @\u2060alice"},
		{"backslash", `a\b`, `a\\b`},
		{"bidi override", "ab\u202Ecd", "abcd"},
		{"control characters", "a\x00b\x1bc", "abc"},
		{"word joiner in the input", "@\u2060board", "@\u2060board"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := md(tc.in); got != tc.want {
				t.Errorf("md(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCardName(t *testing.T) {
	t.Parallel()
	n := hostile()
	name := text(cardName(n))
	if strings.ContainsAny(name, "\n\r\\") {
		t.Errorf("name %q has a line break or a backslash", name)
	}
	if strings.Contains(name, "@board") {
		t.Errorf("name %q mentions the board", name)
	}
	n.Issue.Title = strings.Repeat("é", 1000)
	if r := []rune(text(cardName(n))); len(r) > maxTitleRunes+20 {
		t.Errorf("name of %d runes", len(r))
	}
}

// A hostile description forms nothing but the text, the code block and
// the one link back.
func TestCardDescription_hostile(t *testing.T) {
	t.Parallel()
	n := hostile()
	desc := text(cardDescription(n, ""))
	// The stack's own fences cannot close the block: it is fenced longer.
	const fence = "\n``````\n"
	start := strings.Index(desc, fence)
	end := strings.LastIndex(desc, fence)
	if start < 0 || end <= start {
		t.Fatalf("no code block fenced longer than the frames' backticks:\n%s", desc)
	}
	code, text := desc[start:end+len(fence)], desc[:start]+desc[end+len(fence):]
	if strings.Count(code, "\n") != len(n.Event.Stacktrace)+3 {
		t.Errorf("a frame broke its line:\n%s", code)
	}
	// Outside the code block, the only Markdown is ours.
	link := "[Open BACKEND\\-2B in Tocsin](https://tocsin.example.com/organizations/acme/issues/42/)"
	if !strings.Contains(text, link) {
		t.Errorf("no link back in:\n%s", text)
	}
	text = strings.Replace(text, link, "", 1)
	for _, c := range "[]()<>!`#&" {
		if i := unescaped(text, c); i >= 0 {
			t.Errorf("unescaped %q at %d: %q", c, i, text[max(0, i-20):min(len(text), i+20)])
		}
	}
	for _, bad := range []string{"@board", "@card", "@everyone", "\u202E", "\n# ", "\n> "} {
		if strings.Contains(desc, bad) {
			t.Errorf("description contains %q:\n%s", bad, desc)
		}
	}
	if !hasMarker(desc, "", 666) || hasMarker(desc, "", 42) {
		t.Errorf("marker of 666 missing, or 42's found:\n%s", desc)
	}
}

// unescaped is the index of the first c in s not escaped by a backslash, -1
// for none.
func unescaped(s string, c rune) int {
	backslashes := 0
	for i, r := range s {
		switch {
		case r == '\\':
			backslashes++
			continue
		case r == c && backslashes%2 == 0:
			return i
		}
		backslashes = 0
	}
	return -1
}

func TestCardDescription_bounded(t *testing.T) {
	t.Parallel()
	n := hostile()
	huge := strings.Repeat("@[x](y)`", 10000)
	n.Issue.Title, n.Issue.Culprit, n.Event.Message, n.Event.Release = huge, huge, huge, huge
	n.Event.Stacktrace = make([]string, 500)
	for i := range n.Event.Stacktrace {
		n.Event.Stacktrace[i] = huge
	}
	if l := len([]rune(text(cardDescription(n, "")))); l > 16384 {
		t.Errorf("description of %d characters, Trello takes 16384", l)
	}
	n.Kind = "regression"
	if l := len([]rune(text(comment(n)))); l > 16384 {
		t.Errorf("comment of %d characters, Trello takes 16384", l)
	}
}

func TestHasMarker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		desc string
		id   int64
		want bool
	}{
		{"text\n\ntocsin:issue:42\n", 42, true},
		{"text\n\ntocsin:issue:42", 42, true},
		{"tocsin:issue:42  \n\n", 42, true},
		{"text\n\ntocsin:issue:42\n", 4, false},
		{"text\n\ntocsin:issue:4\n", 42, false},
		{"tocsin:issue:42\nnotes added by someone", 42, false},
		{"see tocsin:issue:42", 42, false},
		{"", 0, false},
	} {
		if got := hasMarker(tc.desc, "", tc.id); got != tc.want {
			t.Errorf("hasMarker(%q, %d) = %v, want %v", tc.desc, tc.id, got, tc.want)
		}
	}
}

func TestLinkTo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"https://tocsin.example.com/issues/1/", "[Open](https://tocsin.example.com/issues/1/)"},
		{"https://tocsin.example.com/a(b)/", "[Open](https://tocsin.example.com/a%28b%29/)"},
		{"javascript:alert(1)", ""},
		{"", ""},
		{"/relative", ""},
	} {
		if got := linkTo("Open", tc.url); got != tc.want {
			t.Errorf("linkTo(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// A list whose integration says "language": "zh-CN" gets its cards and
// comments in Chinese, with dates in its time zone; the escaping of event
// data is the same.
func TestCard_zhCN(t *testing.T) {
	t.Parallel()
	n := hostile()
	n.Language, n.TimeZone = "zh-CN", "Asia/Shanghai"
	golden(t, "hostile.zh-CN.desc.golden", text(cardDescription(n, "")))
	golden(t, "hostile.zh-CN.name.golden", text(cardName(n))+"\n")
	n.Kind, n.Actor = integrations.KindResolved, "jane@example.com"
	golden(t, "comment.resolved.zh-CN.golden", text(comment(n))+"\n")
	if desc := text(cardDescription(n, "")); strings.Contains(desc, "@board") || !strings.Contains(desc, "在 Tocsin 中打开") {
		t.Errorf("Chinese description:\n%s", desc)
	}
}

// text is a rendered message, for tests that expect no error.
func text(s, _ string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
