// Package locale holds Tocsin's message catalogs (English and Simplified
// Chinese) and picks the text of a message for a language, with go-i18n:
// plural forms by CLDR rules, {{.Name}} arguments, and English for any
// message a catalog lacks. Notifications use it per target (an
// integration's "language" setting).
package locale

import (
	"embed"
	"fmt"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed catalogs/*.toml
var catalogs embed.FS

// Languages are the languages with a catalog, English first (the
// fallback).
var Languages = []string{"en", "zh-CN"}

var bundle = func() *i18n.Bundle {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, lang := range Languages {
		if _, err := b.LoadMessageFileFS(catalogs, "catalogs/"+lang+".toml"); err != nil {
			panic(fmt.Sprintf("locale: catalog %s: %v", lang, err)) // embedded: a build error
		}
	}
	return b
}()

// Localizer gives the texts of one language.
type Localizer struct {
	lang string
	l    *i18n.Localizer
}

// For returns the localizer of lang ("zh-CN", "zh", "en"…); an empty or
// unknown language is English.
func For(lang string) *Localizer {
	tag := "en"
	if l := strings.ToLower(strings.TrimSpace(lang)); strings.HasPrefix(l, "zh") {
		tag = "zh-CN"
	}
	return &Localizer{lang: tag, l: i18n.NewLocalizer(bundle, tag, "en")}
}

// Valid reports whether lang names a language with a catalog ("" is the
// default, English).
func Valid(lang string) bool {
	if lang == "" {
		return true
	}
	for _, l := range Languages {
		if strings.EqualFold(lang, l) {
			return true
		}
	}
	return false
}

// Lang is the language's tag.
func (l *Localizer) Lang() string { return l.lang }

// T is the text of message id; args are name, value pairs for its
// {{.Name}} arguments, and a "Count" argument selects the plural form.
// A message no catalog has shows as its id, which a test catches.
func (l *Localizer) T(id string, args ...any) string {
	data := map[string]any{}
	var count any
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		data[k] = args[i+1]
		if k == "Count" {
			count = args[i+1]
		}
	}
	s, err := l.l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil {
		return id
	}
	return s
}

// Time shows t for a reader of the language, in UTC.
func (l *Localizer) Time(t time.Time) string { return l.TimeIn(t, "") }

// TimeIn shows t for a reader of the language in the time zone (an IANA
// name; "" or an unknown one is UTC), naming the zone.
func (l *Localizer) TimeIn(t time.Time, zone string) string {
	if t.IsZero() {
		return ""
	}
	loc := time.UTC
	if zone != "" {
		if z, err := time.LoadLocation(zone); err == nil {
			loc = z
		}
	}
	t = t.In(loc)
	name := t.Format("MST")
	if strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-") {
		name = "UTC" + name // zones without an abbreviation
	}
	if l.lang == "zh-CN" {
		return t.Format("2006年1月2日 15:04:05 ") + name
	}
	return t.Format("2006-01-02 15:04:05 ") + name
}
