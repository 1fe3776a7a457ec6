package grouping

import "github.com/tocsin/tocsin/event"

// maxFrames bounds the frames considered, those nearest the crash. Sentry
// groups by every frame it stores (its max-frames stack trace rule is off
// by default) and stores at most 250 (Relay, and event.Parse, trim the
// middle of deeper ones); the bound here holds for any *event.Event.
const maxFrames = 250

// stackVariants are Sentry's two readings of a stack trace: "app" hashes
// only the in-app frames, "system" all frames. app wins when it has a
// contributing frame, so that changes in libraries (an upgrade, another
// path through a framework) do not split an issue of the application.
type stackVariants struct {
	app, system     []string
	appOK, systemOK bool
}

// best returns the variant to group by, and whether any contributes.
func (sv stackVariants) best() ([]string, bool) {
	switch {
	case sv.appOK:
		return sv.app, true
	case sv.systemOK:
		return sv.system, true
	}
	return nil, false
}

// groupStacktrace hashes the frames of one stack trace, oldest first.
// Followed: stacktrace and _single_stacktrace_variant in
// src/sentry/grouping/strategies/newstyle.py.
func groupStacktrace(st *event.Stacktrace, eventPlatform string) stackVariants {
	var sv stackVariants
	if st == nil || len(st.Frames) == 0 {
		return sv
	}
	src := st.Frames
	if len(src) > maxFrames {
		src = src[len(src)-maxFrames:]
	}
	frames := make([]frame, len(src))
	rules := make([]ruleFrame, len(src))
	for i := range src {
		frames[i] = prepareFrame(&src[i], eventPlatform)
		rules[i] = frames[i].ruleFrame()
	}
	applyRules(rules)

	sv.system = make([]string, 0, 3*len(frames))
	sv.app = make([]string, 0, 3*len(frames))
	for i := range frames {
		if !rules[i].grouped || i > 0 && isRecursion(&src[i], &src[i-1]) {
			continue
		}
		vals := frames[i].values()
		if len(vals) == 0 {
			continue
		}
		// One frame without a function from a script URL is too little to
		// group by (typically a browser extension or a third-party script).
		if len(src) == 1 && frames[0].family == familyJavaScript && src[0].Function == "" &&
			hasURLOrigin(frames[0].absPath, true) {
			continue
		}
		sv.system = append(sv.system, vals...)
		sv.systemOK = true
		if rules[i].inApp {
			sv.app = append(sv.app, vals...)
			sv.appOK = true
		}
	}
	return sv
}

// threadStacktrace picks the thread Sentry groups by: the only crashed
// one, else the only current one, else the only one. ok is false when the
// threads do not single one out.
// Followed: threads and _get_thread_components in newstyle.py.
func threadStacktrace(threads []event.Thread) (*event.Stacktrace, bool) {
	for _, pick := range []func(*event.Thread) bool{
		func(t *event.Thread) bool { return t.Crashed },
		func(t *event.Thread) bool { return t.Current },
		func(*event.Thread) bool { return true },
	} {
		var found *event.Thread
		n := 0
		for i := range threads {
			if pick(&threads[i]) {
				found = &threads[i]
				n++
			}
		}
		if n == 1 {
			return found.Stacktrace, found.Stacktrace != nil
		}
	}
	return nil, false
}
