package grouping

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event"
)

// load parses testdata/<name>.json, a payload as the SDKs send it, the way
// ingest does.
func load(t testing.TB, name string) *event.Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.Parse(data, event.ParseOptions{Received: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return ev
}

// fixture returns a constructor of the named fixture with edits applied.
func fixture(name string, edits ...func(*event.Event)) func(testing.TB) *event.Event {
	return func(t testing.TB) *event.Event {
		ev := load(t, name)
		for _, edit := range edits {
			edit(ev)
		}
		return ev
	}
}

// allStacks is every stack trace of the event.
func allStacks(ev *event.Event) []*event.Stacktrace {
	var out []*event.Stacktrace
	for i := range ev.Exceptions {
		out = append(out, ev.Exceptions[i].Stacktrace)
	}
	for i := range ev.Threads {
		out = append(out, ev.Threads[i].Stacktrace)
	}
	out = append(out, ev.Stacktrace)
	return out
}

// editFrames applies edit to every frame for which match is true.
func editFrames(match func(*event.Frame) bool, edit func(*event.Frame)) func(*event.Event) {
	return func(ev *event.Event) {
		for _, st := range allStacks(ev) {
			if st == nil {
				continue
			}
			for i := range st.Frames {
				if match(&st.Frames[i]) {
					edit(&st.Frames[i])
				}
			}
		}
	}
}

func anyFrame(*event.Frame) bool { return true }

func functionIs(name string) func(*event.Frame) bool {
	return func(f *event.Frame) bool { return f.Function == name }
}

func moduleHas(s string) func(*event.Frame) bool {
	return func(f *event.Frame) bool { return strings.Contains(f.Module, s) }
}

func renameFunction(from, to string) func(*event.Event) {
	return editFrames(functionIs(from), func(f *event.Frame) { f.Function = to })
}

// replaceInFrames replaces old with new in every path, module and function.
func replaceInFrames(oldnew ...string) func(*event.Event) {
	r := strings.NewReplacer(oldnew...)
	return editFrames(anyFrame, func(f *event.Frame) {
		f.Filename, f.AbsPath = r.Replace(f.Filename), r.Replace(f.AbsPath)
		f.Module, f.Function = r.Replace(f.Module), r.Replace(f.Function)
	})
}

func shiftLines(n int) func(*event.Event) {
	return editFrames(anyFrame, func(f *event.Frame) {
		f.Lineno += n
		f.Colno += 2 * n
	})
}

func newIdentity(ev *event.Event) {
	ev.ID = "00000000000000000000000000000001"
	ev.Timestamp = ev.Timestamp.Add(time.Hour)
	ev.ServerName = "web-7"
}

func lastException(edit func(*event.Exception)) func(*event.Event) {
	return func(ev *event.Event) { edit(&ev.Exceptions[len(ev.Exceptions)-1]) }
}

func firstException(edit func(*event.Exception)) func(*event.Event) {
	return func(ev *event.Event) { edit(&ev.Exceptions[0]) }
}

func setValue(v string) func(*event.Exception) { return func(e *event.Exception) { e.Value = v } }
func setType(v string) func(*event.Exception)  { return func(e *event.Exception) { e.Type = v } }
func dropStack(e *event.Exception)             { e.Stacktrace = nil }
func synthetic(e *event.Exception) {
	e.Mechanism = &event.Mechanism{Type: "signalhandler", Synthetic: true}
}

func setFingerprint(fp ...string) func(*event.Event) {
	return func(ev *event.Event) { ev.Fingerprint = fp }
}

func setMessage(msg string) func(*event.Event) {
	return func(ev *event.Event) { ev.Message, ev.MessageTemplate = msg, "" }
}

func clearInApp(ev *event.Event) { editFrames(anyFrame, func(f *event.Frame) { f.InApp = nil })(ev) }

func empty(platform string) func(testing.TB) *event.Event {
	return func(testing.TB) *event.Event { return &event.Event{Platform: platform} }
}
