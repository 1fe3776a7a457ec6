package locale

import (
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// Every message of the English catalog has a Chinese text, and the
// reverse: a missing one would show English in the middle of Chinese.
func TestCatalogsHaveTheSameMessages(t *testing.T) {
	t.Parallel()
	ids := map[string]map[string]bool{}
	for _, lang := range Languages {
		var m map[string]any
		data, err := catalogs.ReadFile("catalogs/" + lang + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		if err := toml.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		ids[lang] = map[string]bool{}
		for id := range m {
			ids[lang][id] = true
		}
	}
	for id := range ids["en"] {
		if !ids["zh-CN"][id] {
			t.Errorf("zh-CN lacks %s", id)
		}
	}
	for id := range ids["zh-CN"] {
		if !ids["en"][id] {
			t.Errorf("zh-CN has %s, which English lacks", id)
		}
	}
}

func TestLocalizer(t *testing.T) {
	t.Parallel()
	en, zh := For(""), For("zh-CN")
	for _, tc := range []struct {
		l    *Localizer
		id   string
		args []any
		want string
	}{
		{en, "Events", nil, "Events"},
		{zh, "Events", nil, "事件数"},
		{en, "NEvents", []any{"Count", 1}, "1 event"},
		{en, "NEvents", []any{"Count", 3}, "3 events"},
		{zh, "NEvents", []any{"Count", 3}, "3 个事件"},
		{en, "DigestSubject", []any{"Count", 2, "Project", "Backend"}, "2 issues in Backend"},
		{zh, "DigestSubject", []any{"Count", 2, "Project", "Backend"}, "Backend 中的 2 个问题"},
		{For("zh"), "Project", nil, "项目"},
		{For("fr"), "Project", nil, "Project"},
	} {
		if got := tc.l.T(tc.id, tc.args...); got != tc.want {
			t.Errorf("%s %s %v = %q, want %q", tc.l.Lang(), tc.id, tc.args, got, tc.want)
		}
	}
	at := time.Date(2026, 11, 27, 9, 5, 0, 0, time.UTC)
	if got := zh.Time(at); got != "2026年11月27日 09:05:00 UTC" {
		t.Errorf("zh time %q", got)
	}
	if !Valid("zh-CN") || !Valid("") || Valid("fr") {
		t.Error("Valid")
	}
}

func TestTimeIn(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 1, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang, zone, want string
	}{
		{"en", "", "2026-11-27 01:05:00 UTC"},
		{"en", "Europe/Paris", "2026-11-27 02:05:00 CET"},
		{"zh-CN", "Asia/Shanghai", "2026年11月27日 09:05:00 CST"},
		{"en", "Asia/Dubai", "2026-11-27 05:05:00 UTC+04"},
		{"en", "Nowhere/Else", "2026-11-27 01:05:00 UTC"},
	} {
		if got := For(tc.lang).TimeIn(at, tc.zone); got != tc.want {
			t.Errorf("%s in %q: %q, want %q", tc.lang, tc.zone, got, tc.want)
		}
	}
}
